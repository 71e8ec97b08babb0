//! Dialog engine: flows loaded from dialogs/, validated, and a pure `step` (pure).
