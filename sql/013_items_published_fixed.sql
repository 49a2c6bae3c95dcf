-- An item's publication time, once stamped, never changes: not through
-- park.items (which never writes it again), and not by anyone editing the
-- database by hand either (伪造发稿日期 is a single-veto fault). A
-- withdrawal deletes the row; publishing the item again stamps it anew.
CREATE TRIGGER park_items_published_fixed BEFORE UPDATE OF published_at ON park_items
WHEN NEW.published_at IS NOT OLD.published_at
BEGIN
  SELECT RAISE(ABORT, 'park_items.published_at is stamped once and never changed');
END;
