# Container images (deploy/docker/Dockerfile.cpu and Dockerfile.cuda, .dockerignore), checked
# without a Docker engine against the real build: the presets the builders use, the targets'
# output paths ($<TARGET_FILE>, as the runtime stages COPY them), the shared libraries ldd
# reports for the binaries against deploy/docker/runtime-packages*.txt, those packages against
# Debian bookworm (apt-cache), and hadolint-style basics. Included from tests/deploy/CMakeLists.txt.
add_test(NAME dockerfile_test
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/docker/dockerfile_test.py
                 --source-dir ${PROJECT_SOURCE_DIR}
                 --build-dir ${CMAKE_BINARY_DIR}
                 --server $<TARGET_FILE:recsys-server>
                 --cli $<TARGET_FILE:recsys-cli>)
set_tests_properties(dockerfile_test PROPERTIES LABELS unit TIMEOUT 120)
