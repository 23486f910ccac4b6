//! The figures of citizens' ratings (好差评) of completed cases (docs/figures.md, "Ratings").

use std::collections::BTreeMap;

use crate::case::Rating;

/// Counts over the cases completed in a period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RatingCounts {
    pub completed: i64,
    /// Completed cases with a rating (their last `rated` event in `at` order).
    pub rated: i64,
    /// Rated, and the rating is not a default recorded by the platform.
    pub active: i64,
    /// Ratings per level, keys "1" to "5", zeros included.
    pub by_level: BTreeMap<String, i64>,
    /// Levels 4–5.
    pub good: i64,
    /// Level 3.
    pub fair: i64,
    /// Levels 1–2 (差评), not set aside.
    pub bad: i64,
    /// Bad ratings set aside after an upheld appeal: they count here and nowhere else.
    pub set_aside: i64,
    /// Bad ratings whose rectification was verified within its limit.
    pub bad_rectified_on_time: i64,
}

impl Default for RatingCounts {
    fn default() -> Self {
        RatingCounts {
            completed: 0,
            rated: 0,
            active: 0,
            by_level: (1..=5).map(|l| (l.to_string(), 0)).collect(),
            good: 0,
            fair: 0,
            bad: 0,
            set_aside: 0,
            bad_rectified_on_time: 0,
        }
    }
}

impl RatingCounts {
    /// Adds one completed case with its rating, if any. (No appeal or rectification of a bad
    /// rating exists yet, so none is set aside or rectified.)
    pub fn add(&mut self, rating: Option<&Rating>) {
        self.completed += 1;
        let Some(r) = rating else { return };
        self.rated += 1;
        if !r.default {
            self.active += 1;
        }
        *self.by_level.entry(r.level.to_string()).or_default() += 1;
        match r.level {
            4..=5 => self.good += 1,
            3 => self.fair += 1,
            _ => self.bad += 1,
        }
    }

    pub fn good_rate(&self) -> Option<f64> {
        ratio(self.good, self.rated)
    }

    pub fn active_rate(&self) -> Option<f64> {
        ratio(self.active, self.completed)
    }

    pub fn bad_rectification_rate(&self) -> Option<f64> {
        ratio(self.bad_rectified_on_time, self.bad)
    }
}

fn ratio(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}
