//! Infera's OpenAI-compatible gateway: clients that speak OpenAI's API (the `openai` libraries,
//! LangChain, plain HTTP) get inference that ran as on-chain jobs, verified by the protocol and
//! paid by the delegate account of their API key. See `api` for the endpoints, `chain` for how
//! the node is used and `config` for the configuration file.

// `serde_json::Value` is read by index (`v["status"]`), which gives `Null` for a missing key
// rather than panicking; values are only written into objects built here.
#![allow(clippy::indexing_slicing)]

pub mod api;
pub mod chain;
pub mod config;
pub mod generate;
