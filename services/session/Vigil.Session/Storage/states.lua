-- The session states as the session hash stores them: the numbers of SessionState in the contract
-- (SessionStoreTests holds these to the enum). Included by the scripts that check the state.
local IN_PROGRESS = '1'
local EXPIRED_UNSUBMITTED = '3'
local SUBMITTED_BY_EXCEPTION = '5'
