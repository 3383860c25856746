//! The domain through HTTP: the engine behind AuthZEN.
