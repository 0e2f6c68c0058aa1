//! The long-term tier's, the vector tier's and the memory layer's commands.

use super::*;

impl Backend {
    /// The Conversations tab's reads of the long-term store.
    pub(super) fn long_term_command(&mut self, cmd: Command) {
        match cmd {
            // Conversations and threads go through the profile's layout.
            Command::Conversations { req, filter, after, limit } => {
                self.spawn_reader(Slot::LtList, req, move |r| async move {
                    LtReply::Conversations(match r {
                        Ok(r) => r.conversations(&filter, after.as_ref(), limit).await,
                        Err(e) => Err(e),
                    })
                })
            }
            Command::CountConversations { req, filter } => self.spawn_reader(Slot::LtCount, req, move |r| async move {
                match r {
                    Ok(r) => {
                        let n = r.count(&filter).await;
                        LtReply::Count(n, r.left_out())
                    }
                    Err(e) => LtReply::Count(Err(e), None),
                }
            }),
            Command::DetectLayouts { req } => {
                let lt = self.long_term.lock().ok().and_then(|g| g.clone());
                let redis = self.redis.clone();
                let tx = self.tx.clone();
                self.spawn_in(Slot::LtCount, async move {
                    let r = crate::layout::detect(lt, redis).await;
                    let _ = tx.send(BackendEvent::LongTerm(req, LtReply::Detected(r)));
                });
            }
            Command::Messages { req, conversation, after, limit } => {
                self.spawn_reader(Slot::LtThread, req, move |r| async move {
                    LtReply::Messages(match r {
                        Ok(r) => r.messages(&conversation, after.as_ref(), limit).await,
                        Err(e) => Err(e),
                    })
                })
            }
            Command::Documents { req, paths } => self.spawn_lt(Slot::LtDocs, req, move |s| async move {
                let s = match s {
                    Ok(s) => s,
                    Err(e) => return LtReply::Documents(Err(e)),
                };
                let mut out = Vec::new();
                for p in paths {
                    match s.document(&p).await {
                        Ok(d) => out.push((p, d)),
                        Err(e) => return LtReply::Documents(Err(e)),
                    }
                }
                LtReply::Documents(Ok(out))
            }),
            Command::Document { req, path } => self.spawn_lt(Slot::LtBrowse, req, move |s| async move {
                LtReply::Documents(match s {
                    Ok(s) => s.document(&path).await.map(|d| vec![(path, d)]),
                    Err(e) => Err(e),
                })
            }),
            Command::Collections { req, parent } => self.spawn_lt(Slot::LtBrowse, req, move |s| async move {
                LtReply::Collections(match s {
                    Ok(s) => s.collections(parent.as_deref()).await,
                    Err(e) => Err(e),
                })
            }),
            Command::ListDocuments { req, collection, after, limit } => {
                self.spawn_lt(Slot::LtBrowse, req, move |s| async move {
                    LtReply::ListDocuments(match s {
                        Ok(s) => s.browse_documents(&collection, after.as_ref(), limit).await,
                        Err(e) => Err(e),
                    })
                })
            }
            other => unreachable!("{} is not a long-term command", command_name(&other)),
        }
    }

    /// The Semantic Search tab's requests of the vector tier.
    pub(super) fn vector_command(&mut self, cmd: Command) {
        match cmd {
            Command::Search { req, params } => self.spawn_vec(Slot::VecSearch, req, move |v| async move {
                crate::message::VecReply::Search(match v {
                    Ok(v) => crate::search::search(v.store.as_ref(), v.query_embedder(), v.dimension, &params).await,
                    Err(e) => Err(e),
                })
            }),
            Command::VectorStats { req } => self.spawn_vec(Slot::VecStats, req, move |v| async move {
                crate::message::VecReply::Stats(match v {
                    Ok(v) => v.store.stats().await,
                    Err(e) => Err(e),
                })
            }),
            Command::WhyNot { req, params, id } => self.spawn_vec(Slot::VecWhy, req, move |v| async move {
                crate::message::VecReply::WhyNot(match v {
                    Ok(v) => crate::search::why_not(v.store.as_ref(), v.query_embedder(), &params, &id, 1000).await,
                    Err(e) => Err(e),
                })
            }),
            other => unreachable!("{} is not a vector command", command_name(&other)),
        }
    }

    /// Requests of the memory layer across the tiers (badges, trace, audit).
    pub(super) fn layer_command(&mut self, cmd: Command) {
        let tx = self.tx.clone();
        match cmd {
            Command::TierBadges { req, conversation, ids } => {
                let mem = self.layer();
                self.spawn_in(Slot::Badges, async move {
                    let b = match mem {
                        Ok(m) => crate::trace::badges(&m, &conversation, &ids).await,
                        Err(e) => crate::trace::Badges { errors: vec![e.to_string()], ..Default::default() },
                    };
                    let _ = tx.send(BackendEvent::Layer(req, LayerReply::Badges(Box::new(b))));
                });
            }
            Command::Trace { req, conversation, message } => {
                let mem = self.layer();
                let vector_pending = self.cfg.vector.is_some();
                self.spawn_in(Slot::Trace, async move {
                    let t = match mem {
                        Ok(m) => {
                            let mut t = crate::trace::trace(&m, &conversation, &message).await;
                            if t.vector.is_none() && vector_pending {
                                t.vector = Some(Err(StoreError::Unreachable(
                                    "vector tier: still connecting, or its index embeds for itself (no embedder)"
                                        .into(),
                                )));
                            }
                            t
                        }
                        Err(e) => crate::trace::Trace {
                            path: crate::memory::message_path(&conversation, &message),
                            conversation,
                            message,
                            document: Err(e),
                            redis: None,
                            vector: None,
                            elapsed_ms: 0,
                        },
                    };
                    let _ = tx.send(BackendEvent::Layer(req, LayerReply::Trace(Box::new(t))));
                });
            }
            Command::Audit { req, repair } => {
                let mem = self.layer();
                let allowed = self.write_mode && !self.cfg.read_only;
                self.spawn_in(Slot::Audit, async move {
                    let r = match mem {
                        Ok(_) if repair && !allowed => Err(StoreError::ReadOnly("repair".into())),
                        Ok(m) => {
                            let ptx = tx.clone();
                            let mut last = std::time::Instant::now();
                            let mut progress = move |p: &crate::audit::Progress| {
                                if last.elapsed().as_millis() >= 100 {
                                    last = std::time::Instant::now();
                                    let _ = ptx.send(BackendEvent::Layer(req, LayerReply::AuditProgress(p.clone())));
                                }
                            };
                            let opts = crate::audit::Options { repair, dry_run: false, ..Default::default() };
                            crate::audit::run(&m, opts, &mut progress).await.map(Box::new)
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = &r {
                        tracing::warn!(error = %e, repair, "audit failed");
                    }
                    let _ = tx.send(BackendEvent::Layer(req, LayerReply::Audit(r)));
                });
            }
            other => unreachable!("{} is not a layer command", command_name(&other)),
        }
    }
}

/// The outcome of a long-term reply, for the connection state.
pub(super) fn lt_result(r: &LtReply) -> Result<(), StoreError> {
    let e = match r {
        LtReply::Conversations(Err(e))
        | LtReply::Count(Err(e), _)
        | LtReply::Messages(Err(e))
        | LtReply::Documents(Err(e))
        | LtReply::Collections(Err(e))
        | LtReply::ListDocuments(Err(e)) => e.clone(),
        _ => return Ok(()),
    };
    Err(e)
}
