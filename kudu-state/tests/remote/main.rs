//! Remote store tests: real HTTP on loopback against the Kudu emulator.
