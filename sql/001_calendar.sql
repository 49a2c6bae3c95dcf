-- The park's working-day calendar: the days that break the Monday-to-Friday
-- rule. 'holiday': a weekday that is not worked (public holidays);
-- 'workday': a weekend day that is worked instead (调休). Every other day is
-- a working day from Monday to Friday.
CREATE TABLE park_calendar (
  day TEXT PRIMARY KEY
    CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
  kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
  name TEXT NOT NULL DEFAULT ''
);
