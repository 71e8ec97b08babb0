//! Chat robustness (filled in by the transcript work).
