//! memscope's integration tests, one binary: every module below is one area, all sharing the
//! support code and ONE Firestore emulator (started on first use, stopped when the process
//! exits), and the binary is built and linked once.

mod support;

mod analyze;
mod cli;
mod cli_import_audit;
mod cli_vectors;
mod conversations_app;
mod decoders;
mod demo;
mod docs;
mod e2e_conversations;
mod e2e_keys;
mod e2e_search;
mod embedders;
mod filter_golden;
mod firestore_vectors;
mod framework_vectors;
mod health_redis;
mod layouts;
mod long_term_contract;
mod memory_layer;
mod pinecone_http;
mod profiler;
mod redis_auth_tls;
mod redis_cluster;
mod redis_keys;
mod redis_modules;
mod redis_sentinel;
mod redis_vectors;
mod render_conversations;
mod render_health;
mod render_keys;
mod render_search;
mod replay;
mod search_quality;
mod secrets;
mod streams;
mod vector_contract;
