// The real @imgly/background-removal-node (its own JS pipeline on onnxruntime-node), through its
// public API: removeBackground(file URL, {model: "small"}) as raw RGBA, whose alpha is the mask.
// Usage: node tools/imgly/reference.cjs OUT PHOTO.png...  (NODE_PATH=vendor/imgly/node_modules)
// Writes OUT/<stem>.alpha (u8, row-major) and OUT/versions.json.
const { removeBackground } = require('@imgly/background-removal-node');
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

(async () => {
  const [out, ...photos] = process.argv.slice(2);
  // The package's own resources (model chunks), wherever it is installed; the default is
  // relative to the working directory.
  const publicPath = pathToFileURL(path.dirname(require.resolve('@imgly/background-removal-node')) + '/').href;
  for (const photo of photos) {
    const blob = await removeBackground(pathToFileURL(path.resolve(photo)).href, {
      publicPath,
      model: 'small',
      output: { format: 'image/x-rgba8' },
    });
    const rgba = Buffer.from(await blob.arrayBuffer());
    const alpha = Buffer.alloc(rgba.length / 4);
    for (let i = 0; i < alpha.length; i += 1) alpha[i] = rgba[4 * i + 3];
    fs.writeFileSync(path.join(out, path.parse(photo).name + '.alpha'), alpha);
  }
  // From each package's own package.json (not every package exports it to require).
  const version = (name) => {
    for (let dir = path.dirname(require.resolve(name)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const file = path.join(dir, 'package.json');
      if (fs.existsSync(file)) {
        const json = JSON.parse(fs.readFileSync(file, 'utf8'));
        if (json.name === name) return json.version;
      }
    }
    throw new Error(`no package.json for ${name}`);
  };
  const versions = {};
  for (const name of ['@imgly/background-removal-node', 'onnxruntime-node', 'sharp']) versions[name] = version(name);
  fs.writeFileSync(path.join(out, 'versions.json'), JSON.stringify(versions));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
