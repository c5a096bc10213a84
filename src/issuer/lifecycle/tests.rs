//! The lifecycle API through the issuer core: claims, lifetimes,
//! validation, cascades, `/authorize`'s rules, the worker with an injected
//! clock. (The store's own rules are tested in [`super::store`].)
