# Installing and packaging (docs/operations.md, "Install from the package"): install()
# rules for the programs, the schema, the console, the configuration, the systemd units
# and logrotate, and CPack's Debian package. `cpack` in a build directory makes
# kontingent_<version>_<arch>.deb (tests/package/test_package.sh builds and checks it).
# Only the two programs are installed: `cmake --install` and cpack build nothing else
# (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY below), so build them first:
#   cmake --build --preset release --target kontingent-fcgi kontingentctl
#   cd build/release && cpack -G DEB
include(GNUInstallDirs)
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

find_program(KT_NGINX nginx PATHS /usr/sbin /sbin)
set(KT_NGINX_CONF ${CMAKE_BINARY_DIR}/packaging/nginx.conf)
add_custom_command(
  OUTPUT ${KT_NGINX_CONF}
  COMMAND ${CMAKE_COMMAND} -DTEMPLATE=${CMAKE_SOURCE_DIR}/nginx/kontingent.conf.in
          -DOUT=${KT_NGINX_CONF} -DNGINX=${KT_NGINX}
          -P ${CMAKE_SOURCE_DIR}/packaging/render-nginx.cmake
  DEPENDS ${CMAKE_SOURCE_DIR}/nginx/kontingent.conf.in
          ${CMAKE_SOURCE_DIR}/packaging/render-nginx.cmake
  COMMENT "Rendering nginx.conf for the package")
add_custom_target(kontingent-nginx-conf ALL DEPENDS ${KT_NGINX_CONF})

install(TARGETS kontingent-fcgi RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS kontingentctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES xsd/kontingent-exchange-1.xsd DESTINATION share/kontingent/xsd)
install(DIRECTORY xsd/samples DESTINATION share/kontingent/xsd)
install(DIRECTORY web/ DESTINATION share/kontingent/web)
install(DIRECTORY docs/ DESTINATION share/doc/kontingent)
install(FILES CHANGELOG.md README.md DESTINATION share/doc/kontingent)
# /etc and /lib/systemd are absolute: where Debian looks for them, whatever the prefix.
install(FILES packaging/kontingent.conf ${KT_NGINX_CONF} DESTINATION /etc/kontingent)
install(FILES packaging/logrotate DESTINATION /etc/logrotate.d RENAME kontingent)
install(FILES packaging/kontingent.service packaging/kontingent-nginx.service
        DESTINATION /lib/systemd/system)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME kontingent)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Kontingent operators <kontingent@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Regional registry of students: FastCGI workers, nginx site, kontingentctl")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
# Debian ships programs stripped; the debug information stays in build/release.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The libraries the programs link, as dpkg-shlibdeps finds them (libfcgi0ldbl, libxml2,
# libssl3, libsqlite3-0, libmongoc/libbson, zlib1g), and what the maintainer scripts and
# the units run. Nothing for the tests: no Chromium, Node.js, Python or Go.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "nginx, openssl, adduser, tzdata, util-linux")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/postinst ${CMAKE_SOURCE_DIR}/packaging/prerm
    ${CMAKE_SOURCE_DIR}/packaging/postrm ${CMAKE_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

# The package's tests (label package; scripts/test runs them after the unit tests):
# package.build makes the .deb and checks its contents and Depends; package.install
# installs it on this machine and calls /api/v1/health, only where that is wanted (exit
# 77, a skip, otherwise: tests/package/test_package.sh says when).
add_test(NAME package.build COMMAND ${CMAKE_SOURCE_DIR}/tests/package/test_package.sh build)
set_tests_properties(package.build PROPERTIES LABELS package TIMEOUT 900
                     FIXTURES_SETUP kt_deb RESOURCE_LOCK kt_package)
add_test(NAME package.install COMMAND ${CMAKE_SOURCE_DIR}/tests/package/test_package.sh install)
set_tests_properties(package.install PROPERTIES LABELS package TIMEOUT 600 SKIP_RETURN_CODE 77
                     FIXTURES_REQUIRED kt_deb RESOURCE_LOCK kt_package)
