//! Language understanding: intents and slots from a customer message (pure).
