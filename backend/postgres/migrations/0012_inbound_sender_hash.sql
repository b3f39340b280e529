-- 0012: sms_inbound.sender holds a keyed hash of the sender's number, as backend/sqlite's 0019.
DELETE FROM sms_inbound;
