# Runs at install time (`cmake --install`, cpack), when CMAKE_INSTALL_PREFIX
# is the prefix given then (--prefix, or cpack's /usr) rather than the one
# configured: the paths inside the unit files and the config's place follow
# that prefix. Set by the install(CODE) before it: KINSHIP_SOURCE_DIR,
# KINSHIP_STAGE_DIR, KINSHIP_BINDIR, KINSHIP_SYSCONFDIR, KINSHIP_DOCDIR,
# KINSHIP_UNITDIR, KINSHIP_SYSUSERSDIR, KINSHIP_TMPFILESDIR (the last six
# as GNUInstallDirs gives them: relative to the prefix unless absolute).

function(kinship_under_prefix out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

# GNUInstallDirs' rule for CMAKE_INSTALL_FULL_SYSCONFDIR: the prefix /usr
# keeps its configuration in /etc, not /usr/etc.
if(IS_ABSOLUTE "${KINSHIP_SYSCONFDIR}")
  set(etc "${KINSHIP_SYSCONFDIR}")
elseif(CMAKE_INSTALL_PREFIX MATCHES "^/usr/?$")
  set(etc "/${KINSHIP_SYSCONFDIR}")
else()
  set(etc "${CMAKE_INSTALL_PREFIX}/${KINSHIP_SYSCONFDIR}")
endif()
kinship_under_prefix(bin "${KINSHIP_BINDIR}")
kinship_under_prefix(doc "${KINSHIP_DOCDIR}")
kinship_under_prefix(unitdir "${KINSHIP_UNITDIR}")
kinship_under_prefix(sysusersdir "${KINSHIP_SYSUSERSDIR}")
kinship_under_prefix(tmpfilesdir "${KINSHIP_TMPFILESDIR}")

# The units name /usr/bin/kinship, /etc/kinship/ and /usr/share/doc/kinship/:
# unchanged for the prefix /usr (the .deb), rewritten for any other.
file(MAKE_DIRECTORY "${KINSHIP_STAGE_DIR}")
foreach(unit kinship.service kinship@.service)
  file(READ "${KINSHIP_SOURCE_DIR}/systemd/${unit}" text)
  string(REPLACE "/usr/bin/kinship" "${bin}/kinship" text "${text}")
  string(REPLACE "/etc/kinship/" "${etc}/kinship/" text "${text}")
  string(REPLACE "/usr/share/doc/kinship/" "${doc}/" text "${text}")
  file(WRITE "${KINSHIP_STAGE_DIR}/${unit}" "${text}")
endforeach()
file(INSTALL DESTINATION "${unitdir}" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${KINSHIP_STAGE_DIR}/kinship.service" "${KINSHIP_STAGE_DIR}/kinship@.service")
file(INSTALL DESTINATION "${sysusersdir}" TYPE FILE RENAME kinship.conf
     FILES "${KINSHIP_SOURCE_DIR}/systemd/kinship.sysusers")
file(INSTALL DESTINATION "${tmpfilesdir}" TYPE FILE RENAME kinship.conf
     FILES "${KINSHIP_SOURCE_DIR}/systemd/kinship.tmpfiles")

# The host example becomes the config, unless one is there already: a
# reinstall must not overwrite an edited config (the .deb marks it a
# conffile, so dpkg asks instead).
if(EXISTS "$ENV{DESTDIR}${etc}/kinship/kinship.yaml")
  message(STATUS "Keeping: $ENV{DESTDIR}${etc}/kinship/kinship.yaml (the example is in ${doc}/examples)")
else()
  file(INSTALL DESTINATION "${etc}/kinship" TYPE FILE RENAME kinship.yaml
       FILES "${KINSHIP_SOURCE_DIR}/config/examples/systemd-host.yaml")
endif()
