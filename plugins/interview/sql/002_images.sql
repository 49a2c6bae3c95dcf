-- An entry may carry an image (a photo shown during the live session),
-- kept with park.files.
ALTER TABLE interview_events ADD COLUMN image TEXT;
ALTER TABLE interview_events ADD COLUMN image_type TEXT;
