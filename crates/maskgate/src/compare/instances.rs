//! The instance statistics of a comparison: `arm − baseline` of COCOeval's 12 numbers, and
//! their paired bootstrap intervals on the same draws as the scope's other statistics. A draw
//! is COCOeval over the drawn samples, the copies of a sample side by side in sample order (as
//! if the corpus held them as that many images), on each arm's records: the numbers are not
//! sums over samples, so each draw accumulates its images again.

use super::{sub, RowDelta, StatDraws};
use crate::aggregate::{class_index, instance_classes, InstanceRow, ALL_CLASSES, INSTANCE_STATS};
use crate::score::SampleScore;
use maskgate_core::cocoeval::{accumulate, CategoryEval, Params};
use maskgate_core::stats::{for_each_drawn, Rng};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A draw's 12 numbers over every class, then per class.
type Stats = Vec<[f64; 12]>;

/// One side's records of a scope, with the scope's class indices.
type Images<'a> = Vec<Option<Vec<(usize, &'a CategoryEval)>>>;

fn images<'a>(scope: &[&'a SampleScore], index: &BTreeMap<&str, usize>) -> Images<'a> {
    scope
        .iter()
        .map(|s| s.instance_eval.as_deref().map(|e| e.by_index(index)))
        .collect()
}

/// The 12 numbers over every class, then per class, of the drawn images (`counts[i]` copies
/// of image `i`); −1 where COCOeval leaves it.
fn drawn_stats(
    side: &Images,
    order: &[usize],
    counts: &[u32],
    classes: usize,
    params: &Params,
) -> Stats {
    let mut drawn: Vec<&Vec<(usize, &CategoryEval)>> = Vec::new();
    for &i in order {
        if let Some(image) = &side[i] {
            drawn.extend(std::iter::repeat_n(image, counts[i] as usize));
        }
    }
    let e = accumulate(&drawn, classes, params);
    std::iter::once(e.stats(None))
        .chain((0..classes).map(|k| e.stats(Some(k))))
        .collect()
}

/// Adds the instance deltas of one scope to its summary row (`class = "*"`: the numbers over
/// every class) and class rows, with intervals from `resamples` draws of `rng` when asked.
#[allow(clippy::too_many_arguments)]
pub(super) fn add_scope(
    arm: &str,
    baseline: &str,
    corpus: &str,
    (group_by, group): (&str, &str),
    rows: &[InstanceRow],
    scope: (&[&SampleScore], &[&SampleScore]),
    draws: Option<(&Rng, usize, bool)>,
    deltas: (&mut [RowDelta], &mut [RowDelta]),
) {
    let find = |who: &str, class: &str| {
        crate::aggregate::find_row(rows, who, corpus, group_by, group, class)
    };
    let (summary_deltas, class_deltas) = deltas;
    let in_scope = |d: &RowDelta| d.group_by == group_by && d.group == group;
    // Point deltas, from the rows' own numbers, for the deltas whose both rows exist: a summary
    // delta (class `None`) reads the every-class row, a class delta its class's.
    let candidates = (summary_deltas.iter_mut().filter(|d| in_scope(d)))
        .map(|d| (d, None))
        .chain((class_deltas.iter_mut().filter(|d| in_scope(d))).map(|d| {
            let class = Some(d.class.clone());
            (d, class)
        }));
    let mut targets: Vec<(&mut RowDelta, Option<String>)> = Vec::new();
    for (d, class) in candidates {
        let row_class = class.as_deref().unwrap_or(ALL_CLASSES);
        let (Some(a), Some(b)) = (find(arm, row_class), find(baseline, row_class)) else {
            continue;
        };
        for (i, name) in INSTANCE_STATS.iter().enumerate() {
            d.deltas.insert(name, sub(a.stats[i], b.stats[i]));
        }
        targets.push((d, class));
    }
    if targets.is_empty() {
        return;
    }
    let Some((rng, resamples, keep_draws)) = draws else {
        return;
    };
    let (sa, sb) = scope;
    let n = sa.len();
    if n == 0 || resamples == 0 {
        return;
    }
    // One category list for both sides, in COCOeval's order.
    let both: Vec<&SampleScore> = sa.iter().chain(sb).copied().collect();
    let classes = instance_classes(&both);
    let index = class_index(&classes);
    let (ia, ib) = (images(sa, &index), images(sb, &index));
    // COCOeval's image order (a COCO corpus's image ids, else the samples'), per side.
    let order_of = |scope: &[&SampleScore]| {
        let mut order: Vec<usize> = (0..scope.len()).collect();
        order.sort_by_key(|&i| scope[i].instance_eval.as_ref().and_then(|e| e.image_id));
        order
    };
    let (oa, ob) = (order_of(sa), order_of(sb));
    let params = Params::default();
    // [draw] → (arm's, baseline's) numbers.
    let per_draw: Vec<(Stats, Stats)> = (0..resamples)
        .into_par_iter()
        .map(|draw| {
            let mut counts = vec![0u32; n];
            for_each_drawn(rng, draw, n, |i| counts[i] += 1);
            (
                drawn_stats(&ia, &oa, &counts, classes.len(), &params),
                drawn_stats(&ib, &ob, &counts, classes.len(), &params),
            )
        })
        .collect();
    for (d, class) in targets {
        // Index into a draw's list: 0 is every class, then the scope's classes.
        let at = match class {
            None => 0,
            Some(c) => match index.get(c.as_str()) {
                Some(k) => k + 1,
                None => continue,
            },
        };
        for (i, name) in INSTANCE_STATS.iter().enumerate() {
            let defined = |v: f64| (v > -1.0).then_some(v);
            let mut delta: Vec<f64> = per_draw
                .iter()
                .filter_map(|(a, b)| sub(defined(a[at][i]), defined(b[at][i])))
                .collect();
            let mut own: Vec<f64> = per_draw
                .iter()
                .filter_map(|(a, _)| defined(a[at][i]))
                .collect();
            delta.sort_by(f64::total_cmp);
            own.sort_by(f64::total_cmp);
            let draws = StatDraws { delta, arm: own, n };
            d.ci95.insert(name, draws.delta_interval(0.95));
            if keep_draws && !draws.delta.is_empty() {
                d.draws.insert(name, Arc::new(draws));
            }
        }
    }
}
