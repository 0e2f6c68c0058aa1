//! Commits: merge writes, at most 500 a commit, retried on contention.

use super::*;

impl FirestoreStore {
    /// The write of one merge: its `set` fields plus `extra`, increments as transforms, under an
    /// optional precondition.
    pub(super) fn merge_write(
        &self,
        m: &crate::domain::Merge,
        extra: Vec<(String, FsValue)>,
        pre: Option<pb::precondition::ConditionType>,
    ) -> pb::Write {
        use pb::document_transform::{FieldTransform, field_transform::TransformType};
        let root = self.root();
        let set: Vec<&(String, FsValue)> = m.set.iter().chain(&extra).collect();
        pb::Write {
            update_mask: Some(pb::DocumentMask { field_paths: set.iter().map(|(k, _)| field_path(k)).collect() }),
            update_transforms: m
                .increment
                .iter()
                .map(|(k, n)| FieldTransform {
                    field_path: field_path(k),
                    transform_type: Some(TransformType::Increment(to_pb(&FsValue::Int(*n), root))),
                })
                .collect(),
            current_document: pre.map(|c| pb::Precondition { condition_type: Some(c) }),
            ..write(pb::write::Operation::Update(pb::Document {
                name: format!("{root}/{}", m.path),
                fields: set.iter().map(|(k, v)| (k.clone(), to_pb(v, root))).collect(),
                create_time: None,
                update_time: None,
            }))
        }
    }

    /// One commit of at most 500 writes, all or nothing.
    pub(super) async fn commit_once(&self, writes: Vec<pb::Write>) -> Result<(), firestore::gcloud_sdk::tonic::Status> {
        let req = pb::CommitRequest {
            database: self.db.get_database_path().clone(),
            writes,
            transaction: Default::default(),
            request_options: None,
        };
        self.db.client().get().commit(req).await.map(|_| ())
    }

    /// Commit writes in as few requests as Firestore's limits allow: at most 500 writes and
    /// about 3.5 MiB a request (Firestore rejects a commit over 10 MiB even when every document
    /// is under 1 MiB, and the emulator any gRPC message over 4 MiB). Each request is all or
    /// nothing; an error says how many writes went before it.
    pub(super) async fn commit(&self, writes: Vec<pb::Write>) -> Result<(), StoreError> {
        use firestore::gcloud_sdk::prost::Message as _;
        const MAX_WRITES: usize = 500;
        const MAX_BYTES: usize = 7 << 19; // 3.5 MiB
        let total = writes.len();
        let mut done = 0usize;
        let mut batch: Vec<pb::Write> = Vec::new();
        let mut bytes = 0usize;
        let mut all = writes.into_iter().peekable();
        while let Some(w) = all.next() {
            bytes += w.encoded_len();
            batch.push(w);
            let full = batch.len() >= MAX_WRITES
                || all.peek().is_some_and(|next| bytes + next.encoded_len() > MAX_BYTES)
                || all.peek().is_none();
            if full {
                let n = batch.len();
                if let Err(e) = self.commit_once(std::mem::take(&mut batch)).await {
                    return Err(match status_err(&e) {
                        StoreError::Unreachable(m) => {
                            StoreError::Unreachable(format!("{m} (after {done} of {total} writes were committed)"))
                        }
                        other if done > 0 => {
                            StoreError::Server(format!("{other} (after {done} of {total} writes were committed)"))
                        }
                        other => other,
                    });
                }
                done += n;
                bytes = 0;
            }
        }
        Ok(())
    }
}
