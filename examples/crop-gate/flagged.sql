-- CropRun.objects.filter(source__type="human").select_related("image"), joined to the
-- ground-truth annotations: the human-flagged corpus. Runs unchanged on SQLite and PostgreSQL.
-- CropRun.source (the production service's record: which backend cropped the photo, and who
-- flagged it) is the rows' `meta`, not maskgate's `source` column: that one groups the samples,
-- and every flagged row names the same production backend.
SELECT r.id AS id,
       i.path AS image,
       a.mask AS mask,
       r.notes AS notes,
       r.source AS meta
FROM crop_run r
JOIN image i ON i.id = r.image_id
JOIN crop_annotation a ON a.run_id = r.id
WHERE r.source ->> 'type' = 'human'
