//! Credentials out of everything maskgate shows. [`url`] is the one function every URL or DSN
//! passes through before it reaches a message, a report or a log: it drops the user information
//! (`user:password@`) and every query or fragment parameter whose key names a credential
//! (`password`, `token`, `sig`, `X-Amz-Signature`, …, matched after percent-decoding).
//! [`in_text`] applies it to each URL inside a third party's message.

/// Whether a query key names a credential. The key is percent-decoded before it gets here
/// (`pass%77ord` is `password`), then compared case-insensitively without `-`, `_` and `.`, so
/// `X-Amz-Signature`, `x_amz_signature` and `Signature` are one key.
fn is_secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    // Short keys are only secret as a whole (`sig` is Azure SAS's signature, `pwd` ODBC's).
    const WHOLE: [&str; 6] = ["pass", "pwd", "sig", "auth", "sas", "code"];
    // Longer words are secret wherever they occur (`sslpassword`, `X-Amz-Security-Token`,
    // `X-Goog-Credential`, `client_secret`, `AWSAccessKeyId`).
    const PARTS: [&str; 7] = [
        "password",
        "passwd",
        "secret",
        "token",
        "signature",
        "credential",
        "authorization",
    ];
    WHOLE.contains(&k.as_str()) || PARTS.iter().any(|p| k.contains(p)) || k.ends_with("key")
}

/// `pairs` (`a=1&b=2`) without the credential ones; `None` when nothing was dropped. Pairs are
/// kept byte for byte as given; only their keys are decoded, to be compared.
fn without_secret_pairs(pairs: &str) -> Option<String> {
    let mut dropped = false;
    let kept: Vec<&str> = pairs
        .split('&')
        .filter(|pair| {
            let key = url::form_urlencoded::parse(pair.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
                .unwrap_or_default();
            let secret = is_secret_key(&key);
            dropped |= secret;
            !secret
        })
        .collect();
    dropped.then(|| kept.join("&"))
}

/// `location` as it may be shown: a URL without user information and credential parameters, a
/// `key=value` DSN without credential values, anything else unchanged. A location without
/// anything secret comes back byte for byte, so reports keep naming inputs as they were given.
pub fn url(location: &str) -> String {
    match url::Url::parse(location) {
        Ok(parsed) if !ambiguous(location, &parsed) => from_parsed(location, parsed),
        _ if location.contains("://") => unparsable(location),
        _ => keyword_dsn(location),
    }
}

/// A URL that parsed, but whose text has an `@` after an authority with a `:`: a password with
/// a `/`, `?` or `#` in it (`postgres://u:12/w@h/db`) parses as a port and a path, and the
/// parsed URL would show the rest of the password. Such a URL is shown as if it had not parsed,
/// which may hide more of a legitimate one (`http://h:8080/a@b`) but never a secret.
fn ambiguous(text: &str, parsed: &url::Url) -> bool {
    let Some((_, rest)) = text.split_once("://") else {
        return false;
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let has_userinfo = !parsed.username().is_empty() || parsed.password().is_some();
    !has_userinfo && rest[..authority_end].contains(':') && rest[authority_end..].contains('@')
}

fn from_parsed(text: &str, mut u: url::Url) -> String {
    let mut changed = false;
    if !u.username().is_empty() || u.password().is_some() {
        // Both fail only for URLs that cannot have user information at all.
        let _ = u.set_username("");
        let _ = u.set_password(None);
        changed = true;
    }
    if let Some(kept) = u.query().and_then(without_secret_pairs) {
        u.set_query((!kept.is_empty()).then_some(kept.as_str()));
        changed = true;
    }
    if let Some(kept) = u.fragment().and_then(without_secret_pairs) {
        u.set_fragment((!kept.is_empty()).then_some(kept.as_str()));
        changed = true;
    }
    if changed {
        u.to_string()
    } else {
        text.to_string()
    }
}

/// A URL-ish text the parser refused (a password with an unescaped `/` or `?`, a bad port):
/// everything between `://` and the last `@` goes (the host follows the last one), then the
/// credential parameters of what is left.
fn unparsable(text: &str) -> String {
    let (scheme, rest) = text.split_once("://").unwrap_or(("", text));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let (before_fragment, fragment) = match rest.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (rest, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = format!("{scheme}://{path}");
    for (sep, part) in [('?', query), ('#', fragment)] {
        if let Some(part) = part {
            let kept = without_secret_pairs(part).unwrap_or_else(|| part.to_string());
            if !kept.is_empty() {
                out.push(sep);
                out.push_str(&kept);
            }
        }
    }
    out
}

/// A libpq keyword DSN (`host=db user=gate password='s e'`) without the values of credential
/// keys; text without `=` is returned as it is.
fn keyword_dsn(text: &str) -> String {
    if !text.contains('=') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            out.push(c);
            chars.next();
            continue;
        }
        // One `key=value` word; a value may be single-quoted with `\` escapes, as libpq reads it.
        let mut key_end = None;
        let mut end = text.len();
        let mut quoted = false;
        while let Some(&(i, c)) = chars.peek() {
            match c {
                '=' if key_end.is_none() => key_end = Some(i),
                '\'' if key_end.is_some() => quoted = !quoted,
                '\\' if quoted => {
                    chars.next();
                }
                c if c.is_whitespace() && !quoted => {
                    end = i;
                    break;
                }
                _ => {}
            }
            chars.next();
        }
        let word = &text[start..end];
        match key_end {
            Some(k) if is_secret_key(text[start..k].trim()) => {
                out.push_str(&text[start..=k]);
                out.push_str("***");
            }
            _ => out.push_str(word),
        }
    }
    out
}

/// `message` with every URL in it shown through [`url`]: for errors of libraries that put the
/// URL they were given into their own messages.
pub fn in_text(message: &str) -> String {
    let withheld = pem_blocks(message);
    let message = withheld.as_str();
    let is_scheme = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.');
    let ends = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>');
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("://") {
        let start = rest[..i]
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_scheme(*c))
            .last()
            .map_or(i, |(j, _)| j);
        let end = rest[i..].find(ends).map_or(rest.len(), |e| i + e);
        out.push_str(&rest[..start]);
        out.push_str(&url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `text` with every PEM block (a key pasted where a path belongs, echoed by an argument
/// parser) replaced, from its BEGIN line to its END line or the text's end.
pub fn pem_blocks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        out.push_str(&rest[..start]);
        out.push_str("[PEM text withheld]");
        let after = &rest[start..];
        rest = match after.find("-----END ") {
            Some(e) => {
                let tail = &after[e + "-----END ".len()..];
                match tail.find("-----") {
                    Some(close) => &tail[close + 5..],
                    None => "",
                }
            }
            None => "",
        };
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_are_withheld_whole() {
        let key = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIC\n-----END PRIVATE KEY-----";
        let said = in_text(&format!("error: unexpected argument '{key}' found"));
        assert_eq!(
            said,
            "error: unexpected argument '[PEM text withheld]' found"
        );
        // Cut short: withheld to the end.
        assert_eq!(
            pem_blocks("a -----BEGIN X-----\nMC4"),
            "a [PEM text withheld]"
        );
        assert_eq!(pem_blocks("plain"), "plain");
    }

    #[test]
    fn every_credential_shape_is_removed() {
        for (given, shown, secret) in [
            ("postgres://u:p%2Fw@h/db", "postgres://h/db", "p%2Fw"),
            ("postgres://u:p/w@h/db", "postgres://h/db", "p/w"),
            ("postgres://u:p?w@h/db", "postgres://h/db", "p?w"),
            ("postgres://u:12/w@h:5432/db", "postgres://h:5432/db", "12/w"),
            ("postgres://u:12?w@h/db", "postgres://h/db", "12?w"),
            (
                "postgresql://gate:p@ss:w@rd@host/app?sslmode=disable&password=x1y2",
                "postgresql://host/app?sslmode=disable",
                "x1y2",
            ),
            (
                "postgresql://u@h/db?pass%77ord=hunter2&application_name=gate",
                "postgresql://h/db?application_name=gate",
                "hunter2",
            ),
            ("s3://AKIAKEY:SECRETKEY@bucket/x", "s3://bucket/x", "SECRETKEY"),
            (
                "http://user:pw-7@127.0.0.1:8080/x",
                "http://127.0.0.1:8080/x",
                "pw-7",
            ),
            (
                "https://b.s3.amazonaws.com/m.onnx?X-Amz-Credential=AK%2F1&X-Amz-Signature=abc123&X-Amz-Expires=60",
                "https://b.s3.amazonaws.com/m.onnx?X-Amz-Expires=60",
                "abc123",
            ),
            (
                "https://a.blob.core.windows.net/c/m?sv=2022&sig=S1G%3D",
                "https://a.blob.core.windows.net/c/m?sv=2022",
                "S1G",
            ),
            ("https://h/x#access_token=t0k", "https://h/x", "t0k"),
            (
                "host=db user=gate password='a b\\' c' dbname=app",
                "host=db user=gate password=*** dbname=app",
                "a b",
            ),
        ] {
            let r = url(given);
            assert_eq!(r, shown, "{given}");
            assert!(!r.contains(secret), "{r}");
        }
    }

    #[test]
    fn locations_without_secrets_come_back_as_given() {
        for s in [
            "s3://bucket/models/selfie.onnx",
            "s3://bucket/photos/face@2x.png",
            "http://127.0.0.1:9/x?version=3",
            "sqlite:data/app.db",
            "postgres://gate@db/app?sslmode=require",
            "data/a=b.png",
            "/abs/path/model.onnx",
        ] {
            let expected = if s.starts_with("postgres://gate@") {
                "postgres://db/app?sslmode=require".to_string()
            } else {
                s.to_string()
            };
            assert_eq!(url(s), expected, "{s}");
        }
    }

    #[test]
    fn urls_inside_messages_are_redacted() {
        let m = "Error performing GET http://u:pw9@127.0.0.1:1/x?token=zz in 1s: refused";
        let r = in_text(m);
        assert_eq!(
            r, "Error performing GET http://127.0.0.1:1/x in 1s: refused",
            "{r}"
        );
        assert_eq!(in_text("no url here"), "no url here");
    }
}
