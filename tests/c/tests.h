/* The list of tests. Keep in sync with PARKHOST_HTTP_TESTS in tests/CMakeLists.txt
 * (the ctest entry "http.test_list_in_sync" checks it). */
#ifndef PARKHOST_TESTS_TESTS_H
#define PARKHOST_TESTS_TESTS_H

#define HTTP_TEST_LIST(X)                                                                          \
    /* test_basic.c */                                                                             \
    X(hello_get)                                                                                   \
    X(request_id_unique)                                                                           \
    X(head_hello)                                                                                  \
    X(head_big)                                                                                    \
    X(keepalive_http11)                                                                            \
    X(http10_closes)                                                                               \
    X(http10_keepalive)                                                                            \
    X(connection_close_request)                                                                    \
    X(pipelining_50)                                                                               \
    X(echo_post_content_length)                                                                    \
    X(echo_put)                                                                                    \
    X(echo_empty_body)                                                                             \
    X(echo_chunked)                                                                                \
    X(expect_continue)                                                                             \
    X(not_found)                                                                                   \
    X(method_not_allowed)                                                                          \
    X(lua_error_500)                                                                               \
    X(access_log)                                                                                  \
    X(big_body)                                                                                    \
    X(big_body_16mib)                                                                              \
    /* test_malformed.c */                                                                         \
    X(bad_method)                                                                                  \
    X(bad_version)                                                                                 \
    X(cl_and_te)                                                                                   \
    X(bad_chunk_size)                                                                              \
    X(nul_in_target)                                                                               \
    X(missing_host)                                                                                \
    X(http10_without_host)                                                                         \
    /* test_limits.c */                                                                            \
    X(header_too_large)                                                                            \
    X(header_too_large_default)                                                                    \
    X(body_too_large)                                                                              \
    X(body_too_large_expect)                                                                       \
    X(chunked_body_too_large)                                                                      \
    X(header_timeout_slowloris)                                                                    \
    X(header_timeout_idle_connection)                                                              \
    X(body_timeout)                                                                                \
    X(body_timeout_reset_by_progress)                                                              \
    X(keepalive_timeout)                                                                           \
    X(max_connections)                                                                             \
    X(thousand_connections)                                                                        \
    /* test_lifecycle.c */                                                                         \
    X(disconnect_mid_header)                                                                       \
    X(disconnect_mid_body)                                                                         \
    X(disconnect_mid_response)                                                                     \
    X(sigterm_inflight_request)                                                                    \
    X(sigterm_idle_keepalive)                                                                      \
    X(sigterm_shutdown_timeout)                                                                    \
    X(sigint_exits_0)                                                                              \
    /* test_cli.c */                                                                               \
    X(cli_help)                                                                                    \
    X(cli_unknown_flag)                                                                            \
    X(cli_bad_value)                                                                               \
    X(cli_missing_config)                                                                          \
    X(config_file)                                                                                 \
    X(config_unknown_key)                                                                          \
    X(config_bad_value)                                                                            \
    X(log_level_debug)

#define HTTP_TEST_DECLARE(name) void test_##name(void);
HTTP_TEST_LIST(HTTP_TEST_DECLARE)
#undef HTTP_TEST_DECLARE

#endif
