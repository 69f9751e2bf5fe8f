-- Compare-and-set of the projection (what the dashboard shows) and of the certificate's state: written only if
-- nobody wrote it since it was read (p_rev). A new certificate is written with it, once. The record then expires
-- @ttlMs after this change (the certificates' retention when it holds one, the results' otherwise).
-- Replies the new revision, 0 when someone else wrote first, -1 when the session was erased.
if redis.call('HEXISTS', @session, 'erased') == 1 then return -1 end
local rev = tonumber(redis.call('HGET', @session, 'p_rev') or '0')
if rev ~= tonumber(@expectedRevision) then return 0 end
redis.call('HSET', @session, 'p_status', @status, 'p_reason', @reason, 'p_reason_code', @reasonCode,
  'p_score_released', @scoreReleased, 'p_updated_at', @updatedAt, 'p_rev', rev + 1)
if @issued == '1' then
  redis.call('HSET', @session, 'c_id', @certificateId, 'c_code', @code, 'c_issued_at', @issuedAt, 'c_payload', @payload,
    'c_sig', @signature, 'c_key_id', @keyId)
end
if @hasCertificate == '1' then
  redis.call('HSET', @session, 'c_status', @certificateStatus, 'c_withdrawal_reason', @withdrawalReason)
  if @withdrawnAt ~= '' then redis.call('HSET', @session, 'c_withdrawn_at', @withdrawnAt) end
end
redis.call('PEXPIRE', @session, @ttlMs)
return rev + 1
