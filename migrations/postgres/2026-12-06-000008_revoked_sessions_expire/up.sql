-- A revoked session now expires when the last access token minted for it does (its
-- blacklist entry's expiry), so the cleanup job's one pass over `expires_at` takes it
-- (app/src/store/cleanup.rs). Sessions revoked before this change get that expiry here.
UPDATE device_sessions
SET expires_at = GREATEST(COALESCE(access_expires_at, absolute_expires_at), revoked_at)
                 + interval '5 seconds'
WHERE revoked_at IS NOT NULL
  AND GREATEST(COALESCE(access_expires_at, absolute_expires_at), revoked_at)
      + interval '5 seconds' < expires_at;
