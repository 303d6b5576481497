//! What runs are turned into for people to read: each run's `report.md` with its charts
//! ([`report`], drawn by [`chart`]), and the results page built from the archive of finished
//! runs ([`results`]).

pub mod chart;
pub mod report;
pub mod results;
