-- What `report html` is computed from, read by the sqlite3 CLI as the
-- reference for benchmark P7: the counts per batch, file and status, and
-- every status change in commit order.
SELECT batch_id, file_id, status, count(*) FROM features GROUP BY batch_id, file_id, status;
SELECT batch_id, file_id, status, count(*) FROM tests GROUP BY batch_id, file_id, status;
SELECT id, item_kind, item_id, batch_id, from_status, to_status, at FROM status_history ORDER BY id;
