# Renders nginx/kontingent.conf.in for the Debian package (cmake -P, at build time):
# the same template scripts/run renders for a development stack, with the installed
# paths. Variables: TEMPLATE, OUT, NGINX (the nginx binary whose modules decide the
# *_temp_path lines, when there is one on the build machine).
file(READ "${TEMPLATE}" conf)
set(temp /var/lib/kontingent-nginx)
set(temp_paths "    client_body_temp_path ${temp}/client_body;\n")
set(modules fastcgi proxy scgi uwsgi)
set(nginx_v "")
if(NGINX AND EXISTS "${NGINX}")
  execute_process(COMMAND "${NGINX}" -V ERROR_VARIABLE nginx_v OUTPUT_QUIET)
endif()
foreach(mod ${modules})
  if(NOT nginx_v MATCHES "--without-http_${mod}_module")
    string(APPEND temp_paths "    ${mod}_temp_path ${temp}/${mod};\n")
  endif()
endforeach()
# Most specific first: the state directory's parts go to their FHS places.
string(REPLACE "@KT_VAR@/run/nginx.pid" "/run/kontingent-nginx/nginx.pid" conf "${conf}")
string(REPLACE "@KT_VAR@/log/" "/var/log/kontingent/" conf "${conf}")
string(REPLACE "@KT_VAR@/tls/" "/etc/kontingent/tls/" conf "${conf}")
string(REPLACE "@KT_REPO@/web" "/usr/share/kontingent/web" conf "${conf}")
string(REPLACE "@KT_NGINX_USER@" "user www-data www-data;" conf "${conf}")
string(REPLACE "@KT_TEMP_PATHS@" "${temp_paths}" conf "${conf}")
string(REPLACE "@KT_PORT@" "8443" conf "${conf}")
string(REPLACE "@KT_SOCKET@" "/run/kontingent/kontingent.sock" conf "${conf}")
# KT_MAX_BODY and KT_MAX_PACKAGE's defaults + 1 MiB (nginx/kontingent.conf.in).
string(REPLACE "@KT_CLIENT_MAX_BODY@" "9437184" conf "${conf}")
string(REPLACE "@KT_CLIENT_MAX_PACKAGE@" "135266304" conf "${conf}")
string(REPLACE "@KT_RATE_ON@" "1" conf "${conf}")
string(REPLACE "@KT_RATE_LIMIT@" "100" conf "${conf}")
string(REPLACE "@KT_RATE_BURST@" "200" conf "${conf}")
# Only comments may still name placeholders (the header lists them).
string(REGEX REPLACE "(^|\n)[ \t]*#[^\n]*" "\\1" body "${conf}")
if(body MATCHES "@KT_[A-Z_]+@")
  message(FATAL_ERROR "render-nginx.cmake: no value for ${CMAKE_MATCH_0} in ${TEMPLATE}")
endif()
file(WRITE "${OUT}"
     "# /etc/kontingent/nginx.conf: rendered for the Debian package from\n"
     "# nginx/kontingent.conf.in (paths: docs/operations.md, \"Install from the package\").\n"
     "# A conffile: your edits (listen address, port, certificates) survive upgrades.\n"
     "#\n${conf}")
