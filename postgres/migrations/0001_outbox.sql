-- zorg-pdp-postgres migration 0001: the transactional outbox the replicas tail.
--
-- The EHR inserts one row per engine entry (an event or an entity record) in the SAME
-- transaction as its own change, without a position; the trigger below gives it one. Every
-- replica applies the rows in position order (docs/replicas.md has the ordering argument).
--
-- Idempotent: every statement may run again (migrate() runs this whole file on every start,
-- under an advisory lock, so two replicas starting together do not race).

-- The positions. CACHE 1 (one value per call from the shared sequence page) is what makes
-- nextval monotonic in time across sessions: with a cache, a session takes a block of values
-- and hands them out later, so a transaction could take position 5 long after another took 20,
-- and the feed's ordering argument would not hold. NO CYCLE: a position never repeats. The
-- feed checks both on every connect and refuses to run otherwise.
CREATE SEQUENCE IF NOT EXISTS zorg_pdp_outbox_position_seq
    AS bigint MINVALUE 1 START WITH 1 CACHE 1 NO CYCLE;
ALTER SEQUENCE zorg_pdp_outbox_position_seq CACHE 1 NO CYCLE;

CREATE TABLE IF NOT EXISTS zorg_pdp_outbox (
    -- Set by the trigger, never by the host (an explicit position is refused)
    position   bigint      PRIMARY KEY,
    -- The entry without its position: {"event": {...}} or {"entity": {...}} (SPEC.md §3, §4)
    entry      jsonb       NOT NULL,
    -- When the row was written (for operators; the engine reads only position and entry)
    written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT zorg_pdp_outbox_entry_shape CHECK (
        jsonb_typeof(entry) = 'object'
        AND NOT entry ? 'position'
        AND (entry ? 'event') <> (entry ? 'entity')
    )
);

ALTER SEQUENCE zorg_pdp_outbox_position_seq OWNED BY zorg_pdp_outbox.position;

-- The position, taken AFTER the transaction's top-level xid exists. pg_current_xact_id()
-- assigns the top-level transaction id when it has none yet (also from inside a savepoint);
-- nextval comes second. So a transaction holding position p already had its xid when it took
-- p, which the feed's horizon relies on.
CREATE OR REPLACE FUNCTION zorg_pdp_outbox_position() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.position IS NOT NULL THEN
        RAISE EXCEPTION 'zorg_pdp_outbox.position is assigned by the outbox trigger: insert without it (got %)', NEW.position
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM pg_current_xact_id();
    NEW.position := nextval('zorg_pdp_outbox_position_seq');
    RETURN NEW;
END
$$;

-- Rows are immutable: a replica that applied a row never sees it change. (DELETE stays
-- allowed, for retention below the position every replica has applied.)
CREATE OR REPLACE FUNCTION zorg_pdp_outbox_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'zorg_pdp_outbox rows are immutable (position %)', OLD.position
        USING ERRCODE = 'check_violation';
END
$$;

-- Wakes the feeds at commit (notifications are delivered when the transaction commits, and
-- one per statement is enough: the feed reads every row above its position anyway)
CREATE OR REPLACE FUNCTION zorg_pdp_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('zorg_pdp_outbox', '');
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS zorg_pdp_outbox_position ON zorg_pdp_outbox;
CREATE TRIGGER zorg_pdp_outbox_position
    BEFORE INSERT ON zorg_pdp_outbox
    FOR EACH ROW EXECUTE FUNCTION zorg_pdp_outbox_position();

DROP TRIGGER IF EXISTS zorg_pdp_outbox_immutable ON zorg_pdp_outbox;
CREATE TRIGGER zorg_pdp_outbox_immutable
    BEFORE UPDATE ON zorg_pdp_outbox
    FOR EACH ROW EXECUTE FUNCTION zorg_pdp_outbox_immutable();

DROP TRIGGER IF EXISTS zorg_pdp_outbox_notify ON zorg_pdp_outbox;
CREATE TRIGGER zorg_pdp_outbox_notify
    AFTER INSERT ON zorg_pdp_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION zorg_pdp_outbox_notify();
