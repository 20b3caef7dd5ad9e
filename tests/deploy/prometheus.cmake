# The shipped Prometheus config and rules: promtool's checks and rule unit tests, then a real
# Prometheus scraping a real recsys-server.
set(_promtool_or_fail
    "command -v promtool >/dev/null || { echo 'promtool not found: run scripts/install-deps.sh'; exit 1; }")
add_test(NAME prometheus_config_test
         COMMAND sh -c "${_promtool_or_fail}; promtool check config deploy/prometheus/prometheus.yml \
&& promtool check rules deploy/prometheus/rules/recording.yml deploy/prometheus/rules/alerts.yml"
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
add_test(NAME prometheus_rules_test
         COMMAND sh -c "${_promtool_or_fail}; promtool test rules tests/deploy/prometheus/rules_test.yml"
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(prometheus_config_test prometheus_rules_test PROPERTIES LABELS unit)

add_test(NAME prometheus_stack_test
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/prometheus_stack_test.py
                 --server=$<TARGET_FILE:recsys-server> --cli=$<TARGET_FILE:recsys-cli>
                 --source=${PROJECT_SOURCE_DIR}
                 --llm_fixtures=${PROJECT_BINARY_DIR}/tests/models/llm/llm-fixtures)
set_tests_properties(prometheus_stack_test PROPERTIES LABELS integration TIMEOUT 240
                     FIXTURES_REQUIRED llm_fixtures)
