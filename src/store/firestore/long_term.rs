//! [`LongTermStore`] for [`FirestoreStore`].

use super::*;

#[async_trait::async_trait]
impl LongTermStore for FirestoreStore {
    fn describe(&self) -> String {
        self.label.clone()
    }

    async fn ping(&self) -> Result<Duration, StoreError> {
        let t = Instant::now();
        self.db.fluent().select().from("conversations").limit(1).query().await.map_err(map_err)?;
        Ok(t.elapsed())
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let root = self.root().to_string();
        let (order_field, desc) = match filter {
            ConvFilter::TitlePrefix(_) => ("title", false),
            ConvFilter::IdPrefix(_) => ("__name__", false),
            _ => ("updated_at", true),
        };
        let mut items: Vec<Conversation> = Vec::new();
        let mut ordered_ended = false;
        if !matches!(after, Some(Cursor::Absent { .. })) {
            let f = filter.clone();
            let mut q = self
                .db
                .fluent()
                .select()
                .from("conversations")
                .filter(|q| q.for_all(conv_filters(&q, &f, &root)))
                .order(|o| {
                    if order_field == "__name__" {
                        o.fields([o.field("__name__").asc()])
                    } else if desc {
                        o.fields([o.field(order_field).desc(), o.field("__name__").desc()])
                    } else {
                        o.fields([o.field(order_field).asc(), o.field("__name__").asc()])
                    }
                })
                .limit(limit);
            if let Some(Cursor::After { values, path }) = after {
                let mut vals: Vec<FirestoreValue> = values.iter().map(|v| self.fv(v)).collect();
                vals.push(self.fv(&FsValue::Reference(path.clone())));
                q = q.start_at(FirestoreQueryCursor::AfterValue(vals));
            }
            let docs = q.query().await.map_err(map_err)?;
            items = docs.iter().map(|d| Conversation::from_doc(self.doc(d))).collect();
            ordered_ended = items.len() < limit as usize;
            if !ordered_ended || order_field != "updated_at" {
                return Ok(Page::of(items, limit, |c| Cursor::After {
                    values: if order_field == "__name__" {
                        vec![]
                    } else {
                        vec![c.doc.get(order_field).cloned().unwrap_or(FsValue::Null)]
                    },
                    path: c.doc.path.clone(),
                }));
            }
        }
        // Ordered by `updated_at`, Firestore leaves out documents without the field: they come
        // after the others, in id order, so that every counted conversation is listed.
        let after_path = match after {
            Some(Cursor::Absent { after }) if !ordered_ended => after.clone(),
            _ => None,
        };
        let want = limit - items.len() as u32;
        let (more, ended) = if want == 0 {
            (vec![], false)
        } else {
            self.scan_keeping(&root, "conversations", filter, after_path.clone(), want, |d| {
                d.get(order_field).is_none()
            })
            .await?
        };
        let last = more.last().map(|d| d.path.clone()).or(after_path);
        items.extend(more.into_iter().map(Conversation::from_doc));
        Ok(Page { items, next: (!ended).then_some(Cursor::Absent { after: last }) })
    }

    async fn count_conversations(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        let f = filter.clone();
        let root = self.root().to_string();
        let docs = self
            .db
            .fluent()
            .select()
            .from("conversations")
            .filter(|q| q.for_all(conv_filters(&q, &f, &root)))
            .aggregate(|a| a.fields([a.field("count").count()]))
            .query()
            .await
            .map_err(map_err)?;
        Ok(count_of(&docs))
    }

    async fn messages(
        &self,
        conversation: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Message>, StoreError> {
        if let Some(why) = doc_id_problem(conversation) {
            return Err(StoreError::Invalid(format!("no such conversation: {why}")));
        }
        self.thread_at(&ThreadPlace::memscope(conversation), after, limit).await
    }

    async fn messages_at(
        &self,
        place: &ThreadPlace,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Option<Page<Message>>, StoreError> {
        check_doc_path(&place.conversation)?;
        self.thread_at(place, after, limit).await.map(Some)
    }

    async fn document(&self, path: &str) -> Result<Option<Document>, StoreError> {
        let (parent, id) = match path.rsplit_once('/') {
            Some((p, id)) => (p, id),
            None => return Err(StoreError::Other(format!("not a document path: {path}"))),
        };
        let (qparent, coll) = self.split_collection(parent);
        match self.db.fluent().select().by_id_in(coll).parent(&qparent).one(id).await {
            Ok(d) => Ok(d.map(|d| self.doc(&d))),
            Err(FirestoreError::DataNotFoundError(_)) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn collections(&self, parent: Option<&str>) -> Result<Vec<String>, StoreError> {
        let list = self.db.fluent().list().collections().page_size(300);
        let list = match parent {
            Some(p) => list.parent(format!("{}/{p}", self.root())),
            None => list,
        };
        let mut out: Vec<String> = list.stream_all().await.map_err(map_err)?.take(10_000).collect().await;
        out.sort();
        Ok(out)
    }

    async fn documents(
        &self,
        collection: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Document>, StoreError> {
        let (parent, coll) = self.split_collection(collection);
        let mut q = self
            .db
            .fluent()
            .select()
            .from(coll)
            .parent(&parent)
            .order(|o| o.fields([o.field("__name__").asc()]))
            .limit(limit);
        if let Some(Cursor::After { path, .. }) = after {
            q = q.start_at(FirestoreQueryCursor::AfterValue(vec![self.fv(&FsValue::Reference(path.clone()))]));
        }
        let docs = q.query().await.map_err(map_err)?;
        let items: Vec<Document> = docs.iter().map(|d| self.doc(d)).collect();
        Ok(Page::of(items, limit, |d| Cursor::After { values: vec![], path: d.path.clone() }))
    }

    async fn last_documents(&self, collection: &str, id_field: &str, limit: u32) -> Result<Vec<Document>, StoreError> {
        let (parent, coll) = self.split_collection(collection);
        let q = self
            .db
            .fluent()
            .select()
            .from(coll)
            .parent(&parent)
            .order(|o| o.fields([o.field(id_field).desc()]))
            .limit(limit);
        let docs = q.query().await.map_err(map_err)?;
        Ok(docs.iter().map(|d| self.doc(d)).collect())
    }

    /// A collection-group query under the pattern's literal parent, by name; documents of a
    /// same-named collection elsewhere (`teams/x/chats` for `users/*/chats`) are passed over, so
    /// a page is filled from as many queries as that takes.
    async fn group_documents(
        &self,
        pattern: &crate::domain::CollectionPattern,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Document>, StoreError> {
        let parent = match pattern.parent_document() {
            p if p.is_empty() => self.root().to_string(),
            p => format!("{}/{p}", self.root()),
        };
        let mut last = match after {
            Some(Cursor::After { path, .. }) => Some(path.clone()),
            _ => None,
        };
        let limit = limit.max(1);
        let mut items = Vec::new();
        loop {
            let ask = limit - items.len() as u32;
            let mut q = self
                .db
                .fluent()
                .select()
                .from(pattern.collection_id())
                .parent(&parent)
                .all_descendants()
                .order(|o| o.fields([o.field("__name__").asc()]))
                .limit(ask);
            if let Some(path) = &last {
                q = q.start_at(FirestoreQueryCursor::AfterValue(vec![self.fv(&FsValue::Reference(path.clone()))]));
            }
            let docs = q.query().await.map_err(map_err)?;
            let got = docs.len() as u32;
            for d in &docs {
                let doc = self.doc(d);
                last = Some(doc.path.clone());
                if pattern.holds(&doc.path) {
                    items.push(doc);
                }
            }
            if got < ask {
                return Ok(Page { items, next: None });
            }
            if items.len() as u32 >= limit {
                let next = last.map(|path| Cursor::After { values: vec![], path });
                return Ok(Page { items, next });
            }
        }
    }

    async fn last_document_id(&self, collection: &str, id_field: &str) -> Result<Option<String>, StoreError> {
        let (parent, coll) = self.split_collection(collection);
        let docs = self
            .db
            .fluent()
            .select()
            .fields([id_field])
            .from(coll)
            .parent(&parent)
            .order(|o| o.fields([o.field(id_field).desc()]))
            .limit(1)
            .query()
            .await
            .map_err(map_err)?;
        Ok(docs.first().map(|d| self.doc(d).id().to_string()))
    }

    /// ListDocuments with show_missing: the documents by name, and the missing ones that hold
    /// subcollections (which a query never returns). The page token rides in the cursor.
    async fn browse_documents(
        &self,
        collection: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Document>, StoreError> {
        let (parent, coll) = self.split_collection(collection);
        let token = match after {
            Some(Cursor::After { values, .. }) => match values.first() {
                Some(FsValue::String(t)) => t.clone(),
                _ => String::new(),
            },
            _ => String::new(),
        };
        let req = pb::ListDocumentsRequest {
            parent,
            collection_id: coll.to_string(),
            page_size: limit as i32,
            page_token: token,
            show_missing: true,
            ..Default::default()
        };
        let r = self.db.client().get().list_documents(req).await.map_err(|e| status_err(&e))?.into_inner();
        let items: Vec<Document> = r
            .documents
            .iter()
            .map(|d| if d.create_time.is_none() { Document { update_time: None, ..self.doc(d) } } else { self.doc(d) })
            .collect();
        let next = (!r.next_page_token.is_empty()).then(|| Cursor::After {
            values: vec![FsValue::String(r.next_page_token.clone())],
            path: items.last().map(|d| d.path.clone()).unwrap_or_default(),
        });
        Ok(Page { items, next })
    }

    async fn put(&self, path: &str, fields: Vec<(String, FsValue)>) -> Result<(), StoreError> {
        self.put_many(vec![(path.to_string(), fields)]).await
    }

    /// Commits of at most 500 writes (Firestore's limit per commit).
    async fn put_many(&self, docs: Vec<(String, Vec<(String, FsValue)>)>) -> Result<(), StoreError> {
        let root = self.root().to_string();
        let writes = docs.iter().map(|(path, fields)| {
            write(pb::write::Operation::Update(pb::Document {
                name: format!("{root}/{path}"),
                fields: fields.iter().map(|(k, v)| (k.clone(), to_pb(v, &root))).collect(),
                create_time: None,
                update_time: None,
            }))
        });
        self.commit(writes.collect()).await
    }

    async fn get_many(&self, paths: &[String]) -> Result<Vec<Option<Document>>, StoreError> {
        let root = self.root().to_string();
        let mut found = std::collections::HashMap::new();
        for chunk in paths.chunks(300) {
            let req = pb::BatchGetDocumentsRequest {
                database: self.db.get_database_path().clone(),
                documents: chunk.iter().map(|p| format!("{root}/{p}")).collect(),
                ..Default::default()
            };
            let mut stream =
                self.db.client().get().batch_get_documents(req).await.map_err(|e| status_err(&e))?.into_inner();
            while let Some(item) = stream.next().await {
                let item = item.map_err(|e| status_err(&e))?;
                if let Some(pb::batch_get_documents_response::Result::Found(d)) = item.result {
                    let doc = self.doc(&d);
                    found.insert(doc.path.clone(), doc);
                }
            }
        }
        Ok(paths.iter().map(|p| found.remove(p)).collect())
    }

    /// BatchWrite (each write applied on its own) with the precondition "does not exist":
    /// Firestore decides which were created, so racing writers never both count one.
    async fn create_many(&self, docs: Vec<(String, Vec<(String, FsValue)>)>) -> Result<Vec<bool>, StoreError> {
        use firestore::gcloud_sdk::google::firestore::v1::{Precondition, precondition::ConditionType};
        let root = self.root().to_string();
        let mut created = Vec::with_capacity(docs.len());
        for chunk in docs.chunks(500) {
            let writes: Vec<pb::Write> = chunk
                .iter()
                .map(|(path, fields)| pb::Write {
                    current_document: Some(Precondition { condition_type: Some(ConditionType::Exists(false)) }),
                    ..write(pb::write::Operation::Update(pb::Document {
                        name: format!("{root}/{path}"),
                        fields: fields.iter().map(|(k, v)| (k.clone(), to_pb(v, &root))).collect(),
                        create_time: None,
                        update_time: None,
                    }))
                })
                .collect();
            let req =
                pb::BatchWriteRequest { database: self.db.get_database_path().clone(), writes, ..Default::default() };
            let r = self.db.client().get().batch_write(req).await.map_err(|e| status_err(&e))?.into_inner();
            for (i, st) in r.status.iter().enumerate() {
                // 0 OK; 6 ALREADY_EXISTS / 9 FAILED_PRECONDITION: another writer made it first.
                match st.code {
                    0 => created.push(true),
                    6 | 9 => created.push(false),
                    code => {
                        return Err(StoreError::Server(format!(
                            "creating {}: code {code}: {}",
                            chunk.get(i).map(|d| d.0.as_str()).unwrap_or("?"),
                            st.message
                        )));
                    }
                }
            }
            if r.status.len() < chunk.len() {
                return Err(StoreError::Server(format!(
                    "BatchWrite answered {} of {} writes",
                    r.status.len(),
                    chunk.len()
                )));
            }
        }
        Ok(created)
    }

    async fn delete_many(&self, paths: &[String]) -> Result<(), StoreError> {
        let root = self.root().to_string();
        self.commit(paths.iter().map(|p| write(pb::write::Operation::Delete(format!("{root}/{p}")))).collect()).await
    }

    /// An update with a field mask (only these fields), and increment transforms applied by
    /// Firestore in the same write.
    async fn merge_many(&self, merges: Vec<crate::domain::Merge>) -> Result<(), StoreError> {
        let (plain, bounded): (Vec<_>, Vec<_>) =
            merges.into_iter().partition(|m| m.at_least.is_empty() && m.at_most.is_empty());
        if !plain.is_empty() {
            self.commit(plain.iter().map(|m| self.merge_write(m, vec![], None)).collect()).await?;
        }
        // Bounded time fields need the stored value: read, then write on the condition that the
        // document has not changed since (its update time), again from the read if it has.
        for chunk in bounded.chunks(500) {
            let paths: Vec<String> = chunk.iter().map(|m| m.path.clone()).collect();
            let mut attempt = 0u32;
            loop {
                let docs = self.get_many(&paths).await?;
                let writes = chunk
                    .iter()
                    .zip(&docs)
                    .map(|(m, d)| {
                        let fields = d.as_ref().map(|d| d.fields.as_slice()).unwrap_or(&[]);
                        let pre = match d.as_ref().map(|d| d.update_time) {
                            Some(Some(t)) => pb::precondition::ConditionType::UpdateTime(
                                firestore::gcloud_sdk::prost_types::Timestamp {
                                    seconds: t.secs,
                                    nanos: t.nanos as i32,
                                },
                            ),
                            Some(None) => pb::precondition::ConditionType::Exists(true),
                            None => pb::precondition::ConditionType::Exists(false),
                        };
                        self.merge_write(m, m.bounds_to_set(fields), Some(pre))
                    })
                    .collect();
                match self.commit_once(writes).await {
                    Ok(()) => break,
                    Err(e) if attempt < 30 && is_contention(&e) => {
                        attempt += 1;
                        let jitter = (std::process::id() as u64 + attempt as u64 * 7919) % 20;
                        tokio::time::sleep(Duration::from_millis(5 * attempt as u64 + jitter)).await;
                    }
                    Err(e) => return Err(status_err(&e)),
                }
            }
        }
        Ok(())
    }
}
