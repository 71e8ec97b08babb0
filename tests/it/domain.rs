//! Tests of the domain module.
