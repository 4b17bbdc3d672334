//! The page's bounds for big captures.
//!
//! - A conversation's ladder draws at most [`LADDER_FRAMES_MAX`] frames: windows of
//!   [`AROUND_FLAGGED`] frames on each side of its flagged frames (in frame order,
//!   until the budget is spent), then the conversation's first and last frames; each
//!   run of frames left out is one row saying how many.
//! - Each series of a graph (time-sequence, RTT) has at most [`GRAPH_POINTS_MAX`]
//!   points: flagged points are kept first, the others evenly thinned.
//! - A whole page draws at most [`PAGE_FRAMES_MAX`] ladder frames and
//!   [`PAGE_POINTS_MAX`] graph points, conversations in order; later ones say that
//!   their pictures were left out. With the explanations' bound (100 per kind and
//!   conversation, html/explain.rs) this keeps a page of a big capture under 20 MB
//!   (a 200-conversation, 24 MB capture: see README's figures).
//!
//! SCHEMA.md ("The HTML page") states the same bounds.

/// Frames drawn per conversation's ladder.
pub const LADDER_FRAMES_MAX: usize = 3_000;
/// Frames kept on each side of a flagged frame when a ladder must leave some out.
pub const AROUND_FLAGGED: usize = 20;
/// Frames kept at the start of a conversation that is cut (the handshake and the
/// first messages), out of the budget left after the flagged windows.
const HEAD: usize = 200;
/// Points per graph series.
pub const GRAPH_POINTS_MAX: usize = 4_000;
/// Ladder frames drawn in a whole page: once spent, later conversations get no ladder.
pub const PAGE_FRAMES_MAX: usize = 12_000;
/// Graph points drawn in a whole page (each conversation's graphs: at most 8 series of
/// a share of what is left); once spent, later conversations get no graphs.
pub const PAGE_POINTS_MAX: usize = 100_000;
/// Series a conversation's graphs have at most (time-sequence: 3 per direction; RTT: 2).
pub const SERIES_PER_CONVERSATION: usize = 8;
/// A series is not drawn with fewer points than this (the page says it left it out).
pub const SERIES_POINTS_MIN: usize = 100;

/// What is left of a page's bounds while its sections are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub frames: usize,
    pub points: usize,
}

impl Budget {
    /// A whole page's.
    pub fn page() -> Budget {
        Budget {
            frames: PAGE_FRAMES_MAX,
            points: PAGE_POINTS_MAX,
        }
    }

    /// Points per series for the next conversation's graphs, None when too few are left;
    /// what it may use is taken from the budget.
    pub fn take_series(&mut self) -> Option<usize> {
        let per = (self.points / SERIES_PER_CONVERSATION).min(GRAPH_POINTS_MAX);
        if per < SERIES_POINTS_MIN {
            return None;
        }
        self.points -= per * SERIES_PER_CONVERSATION;
        Some(per)
    }
}

/// What a ladder draws of `n` frames: indices ascending, at most [`LADDER_FRAMES_MAX`].
/// `flagged(i)` tells whether frame `i` carries an analysis flag.
pub fn ladder_rows(n: usize, flagged: impl Fn(usize) -> bool) -> Vec<usize> {
    ladder_rows_max(n, LADDER_FRAMES_MAX, flagged)
}

/// [`ladder_rows`] with at most `max` rows (what is left of the page's budget).
pub fn ladder_rows_max(n: usize, max: usize, flagged: impl Fn(usize) -> bool) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    let mut keep = vec![false; n];
    let mut kept = 0usize;
    let mut take = |i: usize, keep: &mut Vec<bool>| {
        if kept < max && !keep[i] {
            keep[i] = true;
            kept += 1;
        }
    };
    // The head first (at most HEAD), then the windows around flags, then the tail.
    for i in 0..HEAD.min(n).min(max) {
        take(i, &mut keep);
    }
    for i in (0..n).filter(|&i| flagged(i)) {
        let from = i.saturating_sub(AROUND_FLAGGED);
        let to = (i + AROUND_FLAGGED + 1).min(n);
        for j in from..to {
            take(j, &mut keep);
        }
    }
    for i in (0..n).rev() {
        take(i, &mut keep);
    }
    (0..n).filter(|&i| keep[i]).collect()
}

/// Thin `n` points to at most [`GRAPH_POINTS_MAX`]: every point `keep(i)` wants
/// (up to the bound), the others evenly spaced. Indices ascending.
pub fn decimate(n: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
    decimate_to(n, GRAPH_POINTS_MAX, keep)
}

/// [`decimate`] to at most `max` points (at least 1).
pub fn decimate_to(n: usize, max: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
    let max = max.max(1);
    if n <= max {
        return (0..n).collect();
    }
    let mut chosen = vec![false; n];
    let mut count = 0usize;
    for i in (0..n).filter(|&i| keep(i)).take(max / 2) {
        chosen[i] = true;
        count += 1;
    }
    let room = max - count;
    let others = n - count;
    // Every `step`-th of the others (step ≥ 1, rounded up: never more than `room`).
    let step = others.div_ceil(room.max(1)).max(1);
    let mut seen = 0usize;
    for c in chosen.iter_mut() {
        if *c {
            continue;
        }
        if seen % step == 0 && count < max {
            *c = true;
            count += 1;
        }
        seen += 1;
    }
    (0..n).filter(|&i| chosen[i]).collect()
}

/// Runs of indices left out between kept ones, as (after index position, how many):
/// `rows` ascending; a run before the first kept row has position `None`.
pub fn left_out(n: usize, rows: &[usize]) -> Vec<(Option<usize>, usize)> {
    let mut out = Vec::new();
    let mut next = 0usize;
    for (pos, &i) in rows.iter().enumerate() {
        if i > next {
            out.push((pos.checked_sub(1), i - next));
        }
        next = i + 1;
    }
    if n > next {
        out.push((rows.len().checked_sub(1), n - next));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_ladders_draw_everything() {
        assert_eq!(ladder_rows(5, |_| false), vec![0, 1, 2, 3, 4]);
        assert!(left_out(5, &[0, 1, 2, 3, 4]).is_empty());
    }

    #[test]
    fn big_ladders_are_bounded_and_keep_the_flags() {
        for n in [3_001, 10_000, 250_000] {
            let flagged = |i: usize| i % 997 == 500;
            let rows = ladder_rows(n, flagged);
            assert_eq!(rows.len(), LADDER_FRAMES_MAX, "{n}");
            assert!(rows.windows(2).all(|w| w[0] < w[1]));
            // The first flags' windows are whole (the budget runs out only later).
            assert!(rows.contains(&500) && rows.contains(&520) && rows.contains(&480));
            assert_eq!(rows[0], 0);
            let out: usize = left_out(n, &rows).iter().map(|r| r.1).sum();
            assert_eq!(out + rows.len(), n);
        }
    }

    #[test]
    fn decimation_is_bounded_and_keeps_wanted_points() {
        for n in [10, 4_000, 4_001, 9_999, 1_000_000] {
            let rows = decimate(n, |i| i == 4_000 || i == 7);
            assert!(rows.len() <= GRAPH_POINTS_MAX, "{n}: {}", rows.len());
            assert!(rows.windows(2).all(|w| w[0] < w[1]));
            if n > 4_000 {
                assert!(rows.contains(&4_000));
            }
            if n > GRAPH_POINTS_MAX {
                assert!(rows.len() > GRAPH_POINTS_MAX / 2, "{n}: {}", rows.len());
            }
        }
    }

    #[test]
    fn the_page_budget_runs_out() {
        let mut b = Budget::page();
        let mut drawn = 0;
        for _ in 0..1_000 {
            match b.take_series() {
                Some(per) => drawn += per * SERIES_PER_CONVERSATION,
                None => break,
            }
        }
        assert!(
            drawn <= PAGE_POINTS_MAX && drawn > PAGE_POINTS_MAX / 2,
            "{drawn}"
        );
        assert_eq!(b.take_series(), None);
        assert_eq!(ladder_rows_max(10, 4, |_| false).len(), 4);
        assert!(ladder_rows_max(10, 0, |_| true).is_empty());
    }

    #[test]
    fn left_out_runs_are_placed_after_their_kept_row() {
        assert_eq!(
            left_out(10, &[2, 3, 7]),
            vec![(None, 2), (Some(1), 3), (Some(2), 2)]
        );
    }
}
