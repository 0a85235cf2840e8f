-- Test-only (xmppterm.devserver): a server that refuses XEP-0060 publish-options, as some
-- ejabberd and Openfire set-ups do. Every pubsub publish that carries <publish-options/>
-- is answered with an error before mod_pep sees it; everything else passes through.
-- xt_refuse_publish_options = "precondition-not-met" (the default) or
-- "feature-not-implemented" (<unsupported feature="publish-options"/>).

local st = require "util.stanza";

local xmlns_pubsub = "http://jabber.org/protocol/pubsub";
local xmlns_pubsub_errors = "http://jabber.org/protocol/pubsub#errors";
local answer = module:get_option_string("xt_refuse_publish_options", "precondition-not-met");

local function refuse(event)
	local origin, stanza = event.origin, event.stanza;
	if stanza.attr.type ~= "set" then return; end
	local pubsub = stanza.tags[1];
	if not (pubsub:get_child("publish") and pubsub:get_child("publish-options")) then return; end
	local reply;
	if answer == "feature-not-implemented" then
		reply = st.error_reply(stanza, "cancel", "feature-not-implemented")
			:tag("unsupported", { xmlns = xmlns_pubsub_errors, feature = "publish-options" }):up();
	else
		reply = st.error_reply(stanza, "cancel", "conflict")
			:tag("precondition-not-met", { xmlns = xmlns_pubsub_errors }):up();
	end
	origin.send(reply);
	return true;
end

-- mod_iq fires "iq/bare/<ns>:pubsub" before "iq-set/bare/...": mod_pep listens there.
module:hook("iq/bare/"..xmlns_pubsub..":pubsub", refuse, 100);
