//! Tests of the nlu module.
