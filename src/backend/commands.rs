//! The long-term tier's, the vector tier's and the memory layer's commands.

use super::*;

impl Backend {
    /// The Conversations tab's reads of the long-term store.
    pub(super) fn long_term_command(&mut self, slot: Slot, req: RequestId, cmd: LongTermCmd) {
        match cmd {
            // Conversations and threads go through the profile's layout.
            LongTermCmd::Conversations { filter, after, limit } => self.spawn_reader(slot, req, move |r| async move {
                LongTermReply::Conversations(match r {
                    Ok(r) => r.conversations(&filter, after.as_ref(), limit).await,
                    Err(e) => Err(e),
                })
            }),
            LongTermCmd::Count { filter } => self.spawn_reader(slot, req, move |r| async move {
                match r {
                    Ok(r) => {
                        let n = r.count(&filter).await;
                        LongTermReply::Count(n, r.left_out())
                    }
                    Err(e) => LongTermReply::Count(Err(e), None),
                }
            }),
            LongTermCmd::Detect => {
                let lt = self.long_term.lock().ok().and_then(|g| g.clone());
                let redis = self.redis.clone();
                let tx = self.tx.clone();
                self.spawn_in(slot, async move {
                    let r = crate::layout::detect(lt, redis).await;
                    let _ = tx.send(BackendEvent::LongTerm(req, LongTermReply::Detected(r)));
                });
            }
            LongTermCmd::Messages { conversation, after, limit } => self.spawn_reader(slot, req, move |r| async move {
                LongTermReply::Messages(match r {
                    Ok(r) => r.messages(&conversation, after.as_ref(), limit).await,
                    Err(e) => Err(e),
                })
            }),
            LongTermCmd::SideDocs { paths } => self.spawn_lt(slot, req, move |s| async move {
                let s = match s {
                    Ok(s) => s,
                    Err(e) => return LongTermReply::Documents(Err(e)),
                };
                let mut out = Vec::new();
                for p in paths {
                    match s.document(&p).await {
                        Ok(d) => out.push((p, d)),
                        Err(e) => return LongTermReply::Documents(Err(e)),
                    }
                }
                LongTermReply::Documents(Ok(out))
            }),
            LongTermCmd::Document { path } => self.spawn_lt(slot, req, move |s| async move {
                LongTermReply::Documents(match s {
                    Ok(s) => s.document(&path).await.map(|d| vec![(path, d)]),
                    Err(e) => Err(e),
                })
            }),
            LongTermCmd::Collections { parent } => self.spawn_lt(slot, req, move |s| async move {
                LongTermReply::Collections(match s {
                    Ok(s) => s.collections(parent.as_deref()).await,
                    Err(e) => Err(e),
                })
            }),
            LongTermCmd::ListDocuments { collection, after, limit } => self.spawn_lt(slot, req, move |s| async move {
                LongTermReply::ListDocuments(match s {
                    Ok(s) => s.browse_documents(&collection, after.as_ref(), limit).await,
                    Err(e) => Err(e),
                })
            }),
        }
    }

    /// The Semantic Search tab's requests of the vector tier.
    pub(super) fn vector_command(&mut self, slot: Slot, req: RequestId, cmd: VectorCmd) {
        match cmd {
            VectorCmd::Search { params } => self.spawn_vec(slot, req, move |v| async move {
                VectorReply::Search(match v {
                    Ok(v) => crate::search::search(v.store.as_ref(), v.query_embedder(), v.dimension, &params).await,
                    Err(e) => Err(e),
                })
            }),
            VectorCmd::Stats => self.spawn_vec(slot, req, move |v| async move {
                VectorReply::Stats(match v {
                    Ok(v) => stats_checked(&v).await,
                    Err(e) => Err(e),
                })
            }),
            VectorCmd::WhyNot { params, id } => self.spawn_vec(slot, req, move |v| async move {
                VectorReply::WhyNot(match v {
                    Ok(v) => crate::search::why_not(v.store.as_ref(), v.query_embedder(), &params, &id, 1000).await,
                    Err(e) => Err(e),
                })
            }),
            VectorCmd::Recall { params, returned } => self.spawn_vec(slot, req, move |v| async move {
                VectorReply::Recall(match v {
                    Ok(v) => {
                        crate::search::recall_of(v.store.as_ref(), v.query_embedder(), &params, &returned, RECALL_CAP)
                            .await
                    }
                    Err(e) => Err(e),
                })
            }),
        }
    }

    /// Requests of the memory layer across the tiers (badges, trace, audit).
    pub(super) fn memory_command(&mut self, slot: Slot, req: RequestId, cmd: MemoryCmd) {
        let tx = self.tx.clone();
        match cmd {
            MemoryCmd::Badges { conversation, ids } => {
                let mem = self.memory();
                self.spawn_in(slot, async move {
                    let b = match mem {
                        Ok(m) => crate::trace::badges(&m, &conversation, &ids).await,
                        Err(e) => crate::trace::Badges { errors: vec![e.to_string()], ..Default::default() },
                    };
                    let _ = tx.send(BackendEvent::Memory(req, MemoryReply::Badges(Box::new(b))));
                });
            }
            MemoryCmd::Trace { conversation, message } => {
                let mem = self.memory();
                let vector_pending = self.cfg.vector.is_some();
                self.spawn_in(slot, async move {
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
                    let _ = tx.send(BackendEvent::Memory(req, MemoryReply::Trace(Box::new(t))));
                });
            }
            MemoryCmd::Audit { repair } => {
                let mem = self.memory();
                let allowed = self.write_mode && !self.cfg.read_only;
                self.spawn_in(slot, async move {
                    let r = match mem {
                        Ok(_) if repair && !allowed => Err(StoreError::ReadOnly("repair".into())),
                        Ok(m) => {
                            let ptx = tx.clone();
                            let mut last = std::time::Instant::now();
                            let mut progress = move |p: &crate::audit::Progress| {
                                if last.elapsed().as_millis() >= 100 {
                                    last = std::time::Instant::now();
                                    let _ = ptx.send(BackendEvent::Memory(req, MemoryReply::AuditProgress(p.clone())));
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
                    let _ = tx.send(BackendEvent::Memory(req, MemoryReply::Audit(r)));
                });
            }
        }
    }
}

/// Records an exact pass for recall@k reads at most (the Search tab's `R`, `search --recall`).
pub const RECALL_CAP: usize = 20_000;

/// The outcome of a long-term reply, for the connection state.
pub(super) fn lt_result(r: &LongTermReply) -> Result<(), StoreError> {
    let e = match r {
        LongTermReply::Conversations(Err(e))
        | LongTermReply::Count(Err(e), _)
        | LongTermReply::Messages(Err(e))
        | LongTermReply::Documents(Err(e))
        | LongTermReply::Collections(Err(e))
        | LongTermReply::ListDocuments(Err(e)) => e.clone(),
        _ => return Ok(()),
    };
    Err(e)
}

/// The index's stats, with the embedder checked against what it holds (20 stored texts
/// re-embedded): the verdict joins the stats' detail line. Without an embedder (an index that
/// embeds for itself) there is nothing to check; no stored texts, or a failure, is said.
pub(super) async fn stats_checked(v: &VectorTier) -> Result<crate::domain::IndexStats, StoreError> {
    let mut st = v.store.stats().await?;
    if let Some(e) = &v.embedder {
        let said = match crate::search::check_embedder(&*v.store, &**e, &v.namespace, &v.text_field, 20).await {
            Ok(Some(c)) => Some(c.said()),
            // Nothing to compare: said, so a missing verdict is never read as a good one.
            Ok(None) => Some(format!(
                "embedder not checked: no record holds a text under `{}` beside its vector (set [vector] text_field)",
                v.text_field
            )),
            Err(err) => Some(format!("the embedder could not be checked: {err}")),
        };
        if let Some(said) = said {
            st.detail = Some(match st.detail.take() {
                Some(d) => format!("{d} · {said}"),
                None => said,
            });
        }
    }
    Ok(st)
}
