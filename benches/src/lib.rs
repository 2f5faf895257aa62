//! Benchmark support (filled in by issue 7).
