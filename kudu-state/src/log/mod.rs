//! A deployment's log: `log.log` (the structured-text format of both platforms, [`log_log`]), the legacy
//! `log.xml` of old Windows records ([`log_xml`]), and what a log's tail says about a deployment that may
//! still be running ([`summary`]).

pub mod log_log;
pub mod log_xml;
pub mod summary;

pub use log_log::{LogEntry, LogEntryType, entry_line};
pub use summary::LogSummary;
