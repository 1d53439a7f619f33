-- The two GIN indexes that writes keep growing insert each entry directly instead of through a
-- pending list: the records' lookup values (blind indexes and tokens, written by every create
-- and update) and the audit events' record ids (written by every operation, reads included).
-- With a pending list, the write that fills it merges the whole list into the index. One create
-- in a few hundred waited several times longer than the rest. Every half minute or so, with the
-- audit index's 4 MB list, a merge stalled every read and write for 100 to 200 ms. Searches also
-- scanned the unmerged list until then. Direct insertion costs about the same per row and never
-- spikes.
ALTER INDEX ward_records_lookup SET (fastupdate = off);
ALTER INDEX ward_audit_events_records SET (fastupdate = off);
SELECT gin_clean_pending_list('ward_records_lookup'::regclass);
SELECT gin_clean_pending_list('ward_audit_events_records'::regclass);
