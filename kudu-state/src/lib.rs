//! kudu-state: the deployment state Kudu keeps under `HOME/site`, as typed values.
#![deny(missing_docs)]
