//! Python bindings (filled in by issue 6).
