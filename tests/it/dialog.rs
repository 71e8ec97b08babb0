//! Tests of the dialog module.
