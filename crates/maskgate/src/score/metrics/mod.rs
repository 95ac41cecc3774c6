//! The metric registry: every per-class metric is one declaration (one file here) plus one line
//! in [`REGISTRY`]. Score computes each entry, aggregate averages it into `<name>_mean` (and,
//! when [`Metric::summary`] says so, into the per-sample summary), the bootstrap draws it,
//! shards store its values (their marker lists the names), the exporters write its columns and
//! the criteria accept `<name>.mean`, so adding one needs no other code. Some code does name
//! existing metrics: IoU's own statistics (aggregate's IoU and mIoU columns, the criteria's
//! `iou.<stat>`) and the Markdown/HTML report, whose per-class and ranked-sample tables show a
//! chosen set (IoU, leakage, coverage, Boundary IoU).

use maskgate_core::{Counts, Mask, PixelBox};

mod bbox_iou;
mod boundary_error;
mod boundary_iou;
mod coverage;
mod dice;
mod extent_error;
mod f05;
mod iou;
mod leakage;
mod precision;
mod recall;
mod segment_error;

/// Every metric, in report order (columns, JSON keys, shard rows). IoU must stay first: it is
/// the headline metric the quantiles, the pass rate and mIoU are taken of.
pub const REGISTRY: &[Metric] = &[
    iou::METRIC,
    dice::METRIC,
    precision::METRIC,
    recall::METRIC,
    leakage::METRIC,
    coverage::METRIC,
    bbox_iou::METRIC,
    boundary_iou::METRIC,
    f05::METRIC,
    boundary_error::METRIC,
    extent_error::METRIC,
    segment_error::METRIC,
];

/// How many metrics are registered: per-sample values are arrays of this length.
pub const COUNT: usize = REGISTRY.len();

/// IoU's position in [`REGISTRY`].
pub const IOU: usize = 0;

/// One value per registered metric, in [`REGISTRY`] order; `None` = undefined under the
/// empty-mask policy.
pub type MetricValues = [Option<f64>; COUNT];

/// One metric, declared once.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    /// Its key in `samples.jsonl`, shard rows and criteria (`<name>.mean`).
    pub name: &'static str,
    /// The per-class mean's column (`<name>_mean`) in `metrics.csv` and `report.json`.
    pub mean_column: &'static str,
    /// The per-class mean's label in Markdown and HTML.
    pub label: &'static str,
    pub lower_is_better: bool,
    pub decimals: usize,
    pub compute: Compute,
    /// When the summary row also gets the mean of the per-sample class means: the summary
    /// column's label (its name is [`Metric::mean_column`] too).
    pub summary: Option<&'static str>,
}

/// How a metric is computed from one (ground truth, prediction) pair of one class.
#[derive(Clone, Copy)]
pub enum Compute {
    /// From the pixel counts alone.
    Counts(fn(Counts) -> Option<f64>),
    /// From the masks themselves.
    Masks(fn(&Pair) -> Option<f64>),
}

impl std::fmt::Debug for Compute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Compute::Counts(_) => "Counts",
            Compute::Masks(_) => "Masks",
        })
    }
}

/// One class of one sample, what a mask metric may read: the ground truth's mask, box and
/// boundary band are computed once per sample and shared by every arm.
pub struct Pair<'a> {
    pub counts: Counts,
    pub gt: &'a Mask,
    pub gt_bbox: Option<PixelBox>,
    /// The ground truth's inner boundary band of width `dilation`.
    pub gt_boundary: &'a Mask,
    pub pred: &'a Mask,
    pub pred_bbox: Option<PixelBox>,
    /// The boundary band width in pixels for this image size.
    pub dilation: u32,
    /// The prediction's inner boundary band, made by the first metric that needs it.
    pub pred_boundary: std::cell::OnceCell<Mask>,
    /// The error's anatomy, computed once for its three metrics.
    pub anatomy: std::cell::OnceCell<maskgate_core::anatomy::Anatomy>,
}

impl Pair<'_> {
    pub fn pred_boundary(&self) -> &Mask {
        self.pred_boundary
            .get_or_init(|| self.pred.inner_boundary_in(self.dilation, self.pred_bbox))
    }

    /// The error's anatomy, computed once for the three metrics that share it.
    pub fn anatomy(&self) -> maskgate_core::anatomy::Anatomy {
        *self.anatomy.get_or_init(|| {
            maskgate_core::anatomy::anatomy(
                self.gt,
                self.pred,
                self.gt_boundary,
                self.pred_boundary(),
            )
        })
    }

    /// One kind of wrong pixel over the union; undefined when both masks are empty, as IoU is.
    pub fn anatomy_share(&self, kind: fn(&maskgate_core::anatomy::Anatomy) -> u64) -> Option<f64> {
        let union = self.counts.tp + self.counts.fp + self.counts.fn_;
        (union > 0).then(|| kind(&self.anatomy()) as f64 / union as f64)
    }
}

impl Metric {
    /// Its value from counts alone; `None` for a mask metric (tests' scores).
    #[cfg(test)]
    pub fn of_counts(&self, counts: Counts) -> Option<f64> {
        match self.compute {
            Compute::Counts(f) => f(counts),
            Compute::Masks(_) => None,
        }
    }

    pub fn of_pair(&self, pair: &Pair) -> Option<f64> {
        match self.compute {
            Compute::Counts(f) => f(pair.counts),
            Compute::Masks(f) => f(pair),
        }
    }
}

/// The registered metric called `name`, with its position.
pub fn find(name: &str) -> Option<(usize, &'static Metric)> {
    REGISTRY.iter().enumerate().find(|(_, m)| m.name == name)
}

/// Every registered name, in [`REGISTRY`] order.
pub const NAMES: [&str; COUNT] = {
    let mut out = [""; COUNT];
    let mut i = 0;
    while i < COUNT {
        out[i] = REGISTRY[i].name;
        i += 1;
    }
    out
};

/// Every registered name, for messages.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|m| m.name).collect()
}

/// How many metrics have a summary column.
pub const SUMMARY_COUNT: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < COUNT {
        if REGISTRY[i].summary.is_some() {
            n += 1;
        }
        i += 1;
    }
    n
};

/// The positions in [`REGISTRY`] of the metrics with a summary column, in registry order.
pub const SUMMARY_METRICS: [usize; SUMMARY_COUNT] = {
    let mut out = [0; SUMMARY_COUNT];
    let (mut n, mut i) = (0, 0);
    while i < COUNT {
        if REGISTRY[i].summary.is_some() {
            out[n] = i;
            n += 1;
        }
        i += 1;
    }
    out
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_are_consistent() {
        assert_eq!(REGISTRY[IOU].name, "iou", "IoU must stay first");
        for (i, m) in REGISTRY.iter().enumerate() {
            assert_eq!(m.mean_column, format!("{}_mean", m.name), "{}", m.name);
            assert!(
                !m.name.contains('.') && !m.name.is_empty(),
                "{}: criteria split <metric>.<stat> on the dot",
                m.name
            );
            assert!(
                REGISTRY[..i].iter().all(|o| o.name != m.name),
                "{} is registered twice",
                m.name
            );
        }
    }

    #[test]
    fn both_empty_is_undefined_for_every_count_metric() {
        for m in REGISTRY {
            assert_eq!(m.of_counts(Counts::default()), None, "{}", m.name);
        }
    }
}
