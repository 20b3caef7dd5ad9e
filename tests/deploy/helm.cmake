# The Helm chart helm/recsys, checked offline with the real helm and the Kubernetes API
# schemas (build/deploy-tools, installed by scripts/install-deps.sh; RECSYS_DEPLOY_TOOLS
# overrides the location). Missing tools fail the tests rather than skip them.
#   helm_chart_test             lint + template + schema validation + assertions, every value
#                               set in tests/deploy/helm/values (and the defaults)
#   helm_chart_rejects_bad_values  tests/deploy/helm/bad-values/*.yaml must be refused
#   helm_manifest_validator     validate_manifests.js fails on broken manifests
set(_recsys_helm_test ${CMAKE_CURRENT_SOURCE_DIR}/helm/chart_test.sh)
foreach(_pair "helm_chart_test;cases" "helm_chart_rejects_bad_values;bad-values"
              "helm_manifest_validator;validator")
  list(GET _pair 0 _name)
  list(GET _pair 1 _section)
  add_test(NAME ${_name} COMMAND bash ${_recsys_helm_test} ${PROJECT_SOURCE_DIR} ${_section})
  set_tests_properties(${_name} PROPERTIES LABELS unit TIMEOUT 300)
endforeach()
