//! The `Store` implementation of an engine, of which most methods only read or write through
//! the shared SQL.

/// Implements [`redress_store::Store`] for an engine's store type.
///
/// The methods whose whole work is shared SQL on a pooled connection are written here once;
/// the engine writes the others (`engine`, `migrate`, `register`, `save`, `search`,
/// `text_rows_after`, `index_text`, `lead_background_jobs`) inside the invocation, as it would
/// inside `impl Store`:
///
/// ```ignore
/// redress_store_sql::impl_store! {
///     engine: SqliteEngine, store: SqliteStore, pool: reads,
///     fn engine(&self) -> &'static str { "sqlite" }
///     async fn register(&self, registration: Registration) -> StoreResult<Registered> { … }
///     …
/// }
/// ```
///
/// `engine` is the engine's [`Engine`](crate::Engine) type, `pool` the store's field holding
/// the `sqlx::Pool` these methods take a connection from.
#[macro_export]
macro_rules! impl_store {
    (engine: $engine:ty, store: $store:ty, pool: $pool:ident, $($own:tt)*) => {
        #[$crate::macro_support::async_trait]
        impl $crate::macro_support::Store for $store {
            $($own)*

            #[$crate::macro_support::instrument(skip(self))]
            async fn complaint(&self, id: $crate::macro_support::ComplaintId) -> $crate::macro_support::StoreResult<Option<$crate::macro_support::Complaint>> {
                $crate::records::complaint::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id).await
            }

            #[$crate::macro_support::instrument(skip(self), fields(n = ids.len()))]
            async fn complaints(&self, ids: &[$crate::macro_support::ComplaintId]) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::Complaint>> {
                $crate::records::complaints::<$engine>(&mut *$crate::acquire(&self.$pool).await?, ids).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn complaint_by_number(&self, number: &str) -> $crate::macro_support::StoreResult<Option<$crate::macro_support::Complaint>> {
                $crate::records::complaint_by_number::<$engine>(&mut *$crate::acquire(&self.$pool).await?, number).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn list(
                &self,
                filter: &$crate::macro_support::ComplaintFilter,
            ) -> $crate::macro_support::StoreResult<$crate::macro_support::Page<$crate::macro_support::ComplaintSummary>> {
                $crate::filter::list::<$engine>(&mut *$crate::acquire(&self.$pool).await?, filter).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn history(&self, id: $crate::macro_support::ComplaintId) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::StoredEvent>> {
                $crate::records::history::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn messages(&self, id: $crate::macro_support::ComplaintId) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::StoredMessage>> {
                $crate::delivery::messages::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn claim_notices(
                &self,
                now: $crate::macro_support::Timestamp,
                lease_until: $crate::macro_support::Timestamp,
                claim: &str,
                limit: u32,
            ) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::ClaimedNotice>> {
                $crate::delivery::claim_notices::<$engine>(&mut *$crate::acquire(&self.$pool).await?, now, lease_until, claim, limit).await
            }

            #[$crate::macro_support::instrument(skip(self, update))]
            async fn finish_notice(&self, id: i64, claim: &str, update: $crate::macro_support::NoticeUpdate) -> $crate::macro_support::StoreResult<bool> {
                $crate::delivery::finish_notice::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id, claim, &update).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn notice_backlog(&self) -> $crate::macro_support::StoreResult<$crate::macro_support::NoticeBacklog> {
                $crate::delivery::notice_backlog::<$engine>(&mut *$crate::acquire(&self.$pool).await?).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn inbound_mail_known(&self, key: &str) -> $crate::macro_support::StoreResult<bool> {
                $crate::delivery::inbound_mail_known::<$engine>(&mut *$crate::acquire(&self.$pool).await?, key).await
            }

            #[$crate::macro_support::instrument(skip(self, mail, raw), fields(key = %mail.key))]
            async fn record_inbound_mail(&self, mail: $crate::macro_support::InboundMail, raw: &[u8]) -> $crate::macro_support::StoreResult<bool> {
                $crate::delivery::record_inbound_mail::<$engine>(&mut *$crate::acquire(&self.$pool).await?, &mail, raw).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn inbound_mails(&self, outcome: Option<&str>, limit: u32) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::InboundMail>> {
                $crate::delivery::inbound_mails::<$engine>(&mut *$crate::acquire(&self.$pool).await?, outcome, limit).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn inbound_mail_raw(&self, id: i64) -> $crate::macro_support::StoreResult<Option<Vec<u8>>> {
                $crate::delivery::inbound_mail_raw::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id).await
            }

            #[$crate::macro_support::instrument(skip(self, channels))]
            async fn claim_messages(
                &self,
                now: $crate::macro_support::Timestamp,
                lease_until: $crate::macro_support::Timestamp,
                channels: &[$crate::macro_support::DeliveryChannel],
                claim: &str,
                limit: u32,
            ) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::ClaimedMessage>> {
                $crate::delivery::claim::<$engine>(&mut *$crate::acquire(&self.$pool).await?, now, lease_until, channels, claim, limit).await
            }

            #[$crate::macro_support::instrument(skip(self, update), fields(id = update.id))]
            async fn finish_delivery(&self, update: $crate::macro_support::DeliveryUpdate) -> $crate::macro_support::StoreResult<bool> {
                $crate::delivery::finish::<$engine>(&mut *$crate::acquire(&self.$pool).await?, &update).await
            }

            #[$crate::macro_support::instrument(skip(self, receipt))]
            async fn record_receipt(&self, receipt: $crate::macro_support::DeliveryReceipt) -> $crate::macro_support::StoreResult<Option<$crate::macro_support::StoredMessage>> {
                $crate::delivery::receipt::<$engine>(&mut *$crate::acquire(&self.$pool).await?, &receipt).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn notifications(
                &self,
                role: $crate::macro_support::Role,
                department: Option<&str>,
                limit: u32,
            ) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::StoredNotification>> {
                $crate::records::notifications::<$engine>(&mut *$crate::acquire(&self.$pool).await?, role, department, limit).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn label_corrections(&self, limit: u32) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::StoredLabel>> {
                $crate::records::label_corrections::<$engine>(&mut *$crate::acquire(&self.$pool).await?, limit).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn due_candidates(
                &self,
                now: $crate::macro_support::Timestamp,
                soon_before: $crate::macro_support::Timestamp,
                limit: u32,
            ) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::Complaint>> {
                $crate::records::due_candidates::<$engine>(&mut *$crate::acquire(&self.$pool).await?, now, soon_before, limit).await
            }

            #[$crate::macro_support::instrument(skip(self, user), fields(name = %user.name))]
            async fn create_user(&self, user: $crate::macro_support::NewUser) -> $crate::macro_support::StoreResult<$crate::macro_support::User> {
                $crate::users::create_user::<$engine>(&mut *$crate::acquire(&self.$pool).await?, &user).await
            }

            #[$crate::macro_support::instrument(skip_all)]
            async fn user_by_token_hash(&self, token_hash: &str) -> $crate::macro_support::StoreResult<Option<$crate::macro_support::User>> {
                $crate::users::user_by_token_hash::<$engine>(&mut *$crate::acquire(&self.$pool).await?, token_hash).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn user(&self, id: &str) -> $crate::macro_support::StoreResult<Option<$crate::macro_support::User>> {
                $crate::users::user::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn user_by_name(&self, name: &str) -> $crate::macro_support::StoreResult<Option<$crate::macro_support::User>> {
                $crate::users::user_by_name::<$engine>(&mut *$crate::acquire(&self.$pool).await?, name).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn users(&self) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::User>> {
                $crate::users::users::<$engine>(&mut *$crate::acquire(&self.$pool).await?).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn count(&self) -> $crate::macro_support::StoreResult<u64> {
                $crate::records::count::<$engine>(&mut *$crate::acquire(&self.$pool).await?).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn attachment(&self, sha256: &str) -> $crate::macro_support::StoreResult<Option<(String, Vec<u8>)>> {
                $crate::records::attachment::<$engine>(&mut *$crate::acquire(&self.$pool).await?, sha256).await
            }

            #[$crate::macro_support::instrument(skip(self, band_keys))]
            async fn similar_candidates(
                &self,
                band_keys: &[i64],
                per_key_limit: u32,
                received_after: Option<$crate::macro_support::Timestamp>,
                exclude: Option<$crate::macro_support::ComplaintId>,
            ) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::SimilarCandidate>> {
                $crate::text::similar_candidates::<$engine>(&mut *$crate::acquire(&self.$pool).await?, band_keys, per_key_limit, received_after, exclude).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn text_row(&self, id: $crate::macro_support::ComplaintId) -> $crate::macro_support::StoreResult<Option<$crate::macro_support::TextRow>> {
                $crate::text::text_row_of::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id).await
            }

            async fn incident_cursor(&self) -> $crate::macro_support::StoreResult<i64> {
                $crate::text::incident_cursor::<$engine>(&mut *$crate::acquire(&self.$pool).await?).await
            }

            #[$crate::macro_support::instrument(skip(self, scan), fields(from = scan.from_row, to = scan.to_row))]
            async fn apply_incident_scan(&self, scan: $crate::macro_support::IncidentScan) -> $crate::macro_support::StoreResult<()> {
                $crate::text::apply_incident_scan::<$engine>(&mut *$crate::acquire(&self.$pool).await?, &scan).await
            }

            async fn incidents_of(&self, ids: &[$crate::macro_support::ComplaintId]) -> $crate::macro_support::StoreResult<Vec<($crate::macro_support::ComplaintId, String)>> {
                $crate::text::incidents_of::<$engine>(&mut *$crate::acquire(&self.$pool).await?, ids).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn incidents(
                &self,
                since: Option<$crate::macro_support::Timestamp>,
                departments: Option<&[String]>,
                limit: u32,
            ) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::Incident>> {
                $crate::text::incidents::<$engine>(&mut *$crate::acquire(&self.$pool).await?, since, departments, limit).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn incident(
                &self,
                id: &str,
            ) -> $crate::macro_support::StoreResult<Option<($crate::macro_support::Incident, Vec<$crate::macro_support::IncidentMember>)>> {
                $crate::text::incident::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id).await
            }

            #[$crate::macro_support::instrument(skip(self, info, content), fields(id = %info.id, target = %info.target))]
            async fn put_model(&self, info: $crate::macro_support::ModelInfo, content: Vec<u8>) -> $crate::macro_support::StoreResult<()> {
                $crate::text::put_model::<$engine>(&mut *$crate::acquire(&self.$pool).await?, &info, &content).await
            }

            async fn models(&self) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::ModelInfo>> {
                $crate::text::models::<$engine>(&mut *$crate::acquire(&self.$pool).await?).await
            }

            async fn model_content(&self, id: &str) -> $crate::macro_support::StoreResult<Option<Vec<u8>>> {
                $crate::text::model_content::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id).await
            }

            async fn activate_model(&self, id: &str) -> $crate::macro_support::StoreResult<()> {
                $crate::text::activate_model::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id).await
            }

            async fn labelled_texts(&self, dimension: &str, limit: u32) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::LabelledText>> {
                $crate::text::labelled_texts::<$engine>(&mut *$crate::acquire(&self.$pool).await?, dimension, limit).await
            }

            async fn unindexed(&self, limit: u32) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::Complaint>> {
                $crate::text::unindexed::<$engine>(&mut *$crate::acquire(&self.$pool).await?, limit).await
            }

            #[$crate::macro_support::instrument(skip_all, fields(user = %session.user_id))]
            async fn create_session(&self, session: $crate::macro_support::NewSession) -> $crate::macro_support::StoreResult<()> {
                $crate::web::create_session::<$engine>(&mut *$crate::acquire(&self.$pool).await?, &session).await
            }

            #[$crate::macro_support::instrument(skip(self, id_hash))]
            async fn session(
                &self,
                id_hash: &str,
                now: $crate::macro_support::Timestamp,
            ) -> $crate::macro_support::StoreResult<Option<$crate::macro_support::StoredSession>> {
                $crate::web::session::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id_hash, now).await
            }

            #[$crate::macro_support::instrument(skip(self, id_hash))]
            async fn revoke_session(&self, id_hash: &str, at: $crate::macro_support::Timestamp) -> $crate::macro_support::StoreResult<()> {
                $crate::web::revoke_session::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id_hash, at).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn revoke_sessions_of(&self, user_id: &str, at: $crate::macro_support::Timestamp) -> $crate::macro_support::StoreResult<u64> {
                $crate::web::revoke_sessions_of::<$engine>(&mut *$crate::acquire(&self.$pool).await?, user_id, at).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn record_sign_in_failure(&self, key: &str, at: $crate::macro_support::Timestamp) -> $crate::macro_support::StoreResult<()> {
                $crate::web::record_sign_in_failure::<$engine>(&mut *$crate::acquire(&self.$pool).await?, key, at).await
            }

            async fn sign_in_failures(&self, key: &str, since: $crate::macro_support::Timestamp) -> $crate::macro_support::StoreResult<u64> {
                $crate::web::sign_in_failures::<$engine>(&mut *$crate::acquire(&self.$pool).await?, key, since).await
            }

            async fn clear_sign_in_failures(&self, key: &str) -> $crate::macro_support::StoreResult<()> {
                $crate::web::clear_sign_in_failures::<$engine>(&mut *$crate::acquire(&self.$pool).await?, key).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn password_hash(&self, user_id: &str) -> $crate::macro_support::StoreResult<Option<String>> {
                $crate::users::password_hash::<$engine>(&mut *$crate::acquire(&self.$pool).await?, user_id).await
            }

            #[$crate::macro_support::instrument(skip(self, hash))]
            async fn set_password_hash(&self, user_id: &str, hash: &str) -> $crate::macro_support::StoreResult<()> {
                $crate::users::set_password_hash::<$engine>(&mut *$crate::acquire(&self.$pool).await?, user_id, hash).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn update_user(
                &self,
                user_id: &str,
                update: $crate::macro_support::UserUpdate,
            ) -> $crate::macro_support::StoreResult<$crate::macro_support::User> {
                $crate::users::update_user::<$engine>(&mut *$crate::acquire(&self.$pool).await?, user_id, &update).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn work_queue(
                &self,
                queue: &$crate::macro_support::WorkQueue,
            ) -> $crate::macro_support::StoreResult<$crate::macro_support::WorkPage> {
                $crate::web::work_queue::<$engine>(&mut *$crate::acquire(&self.$pool).await?, queue).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn tracking_code_hash(&self, id: $crate::macro_support::ComplaintId) -> $crate::macro_support::StoreResult<Option<String>> {
                $crate::records::tracking_code_hash::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id).await
            }

            #[$crate::macro_support::instrument(skip(self, candidate))]
            async fn installation_secret(&self, name: &str, candidate: &[u8]) -> $crate::macro_support::StoreResult<Vec<u8>> {
                $crate::web::installation_secret::<$engine>(&mut *$crate::acquire(&self.$pool).await?, name, candidate).await
            }

            async fn mark_notification_read(
                &self,
                user_id: &str,
                notification_id: i64,
                at: $crate::macro_support::Timestamp,
            ) -> $crate::macro_support::StoreResult<()> {
                $crate::web::mark_notification_read::<$engine>(&mut *$crate::acquire(&self.$pool).await?, user_id, notification_id, at).await
            }

            async fn read_notifications(&self, user_id: &str, ids: &[i64]) -> $crate::macro_support::StoreResult<Vec<i64>> {
                $crate::web::read_notifications::<$engine>(&mut *$crate::acquire(&self.$pool).await?, user_id, ids).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn stat_rows(&self, query: &$crate::macro_support::StatQuery) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::StatRow>> {
                $crate::stats::stat_rows::<$engine>(&mut *$crate::acquire(&self.$pool).await?, query).await
            }

            async fn stat_cells(&self) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::Cell>> {
                $crate::stats::stat_cells::<$engine>(&mut *$crate::acquire(&self.$pool).await?).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn clear_stat_cells(&self) -> $crate::macro_support::StoreResult<()> {
                $crate::stats::clear_stat_cells::<$engine>(&mut *$crate::acquire(&self.$pool).await?).await
            }

            #[$crate::macro_support::instrument(skip_all, fields(n = cells.len()))]
            async fn add_stat_cells(&self, cells: &[$crate::macro_support::Cell]) -> $crate::macro_support::StoreResult<()> {
                $crate::stats::add_stat_cells::<$engine>(&mut *$crate::acquire(&self.$pool).await?, cells).await
            }

            #[$crate::macro_support::instrument(skip(self, keys), fields(keys = keys.len()))]
            async fn complaints_by_identity(&self, keys: &[String], limit: u32) -> $crate::macro_support::StoreResult<Vec<$crate::macro_support::Complaint>> {
                $crate::stats::complaints_by_identity::<$engine>(&mut *$crate::acquire(&self.$pool).await?, keys, limit).await
            }

            #[$crate::macro_support::instrument(skip(self))]
            async fn report_note(&self, report_key: &str) -> $crate::macro_support::StoreResult<Option<(serde_json::Value, String, $crate::macro_support::Timestamp)>> {
                let found = $crate::stats::report_note::<$engine>(&mut *$crate::acquire(&self.$pool).await?, report_key).await?;
                found
                    .map(|(body, by, at)| {
                        let at = $crate::macro_support::Timestamp::from_microsecond(at).map_err(|e| $crate::macro_support::StoreError::corrupt("report note time", e))?;
                        Ok((body, by, at))
                    })
                    .transpose()
            }

            #[$crate::macro_support::instrument(skip(self, body))]
            async fn set_report_note(&self, report_key: &str, body: &serde_json::Value, by: &str, at: $crate::macro_support::Timestamp) -> $crate::macro_support::StoreResult<()> {
                $crate::stats::set_report_note::<$engine>(&mut *$crate::acquire(&self.$pool).await?, report_key, body, by, at.as_microsecond()).await
            }

            #[$crate::macro_support::instrument(skip(self, notifications))]
            async fn notify_once(
                &self,
                once: &str,
                notifications: &[$crate::macro_support::Notification],
                at: $crate::macro_support::Timestamp,
            ) -> $crate::macro_support::StoreResult<bool> {
                $crate::stats::notify_once::<$engine>(&mut *$crate::acquire(&self.$pool).await?, once, notifications, at.as_microsecond()).await
            }

            #[$crate::macro_support::instrument(skip(self, keys), fields(keys = keys.len()))]
            async fn index_identity(
                &self,
                id: $crate::macro_support::ComplaintId,
                received_at: $crate::macro_support::Timestamp,
                keys: &[String],
            ) -> $crate::macro_support::StoreResult<()> {
                $crate::stats::index_identity::<$engine>(&mut *$crate::acquire(&self.$pool).await?, id, received_at.as_microsecond(), keys).await
            }
        }
    };
}
