-- letters_notify: the one place where the plugin sends a message out: a
-- verification code or a reply's notice to a writer, a deadline warning to
-- a unit's webmaster and leaders. The binding's `channel` picks the way;
-- "log" writes the message to the server's log (development and tests).
--
-- To send mail or SMS, add a channel here (and its name to the schema's
-- `channel` enum in letters_config): a branch of notify.send that hands
-- (to, message) to the gateway. `to` is a writer's contact (a mobile
-- number or an e-mail address), or "unit:<code>" for the webmaster and the
-- leaders of a unit, whose addresses the gateway keeps (the plugin cannot
-- read staff accounts). A gateway reached over HTTP needs the core to offer
-- an outgoing request to plugins, which it does not yet; until then a
-- gateway reads the log lines `letters channel log: to ...`.
local park = require("park")

local notify = {}

--- Send `message` to `to` through `channel`: true, or nil and why.
function notify.send(channel, to, message)
  if channel == "log" then
    park.log.info(("letters channel log: to %s: %s"):format(to, message))
    return true
  end
  park.log.warn(("letters: unknown channel %s; a message to %s was not sent")
    :format(tostring(channel), tostring(to)))
  return nil, "unknown channel " .. tostring(channel)
end

return notify
