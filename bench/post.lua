-- wrk script: POST a small body (a resident's vote, say).
wrk.method = "POST"
wrk.body = "a vote"
wrk.headers["Content-Type"] = "text/plain; charset=utf-8"
