//! Golden transcripts (filled in by the transcript work).
