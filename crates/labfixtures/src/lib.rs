//! Capture synthesiser (filled in by its own work).
