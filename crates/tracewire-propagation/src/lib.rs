//! Propagators for tracewire.
