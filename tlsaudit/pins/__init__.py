"""TLS pins where they really live: service configuration (systemd units, env files, Tomcat, WildFly,
jvm.options, php-fpm pools, Apache envvars) read from a file-system root, and running processes (/proc).

Collectors only: they read files and /proc, never start a program, and return `Run`s (a service or a
process, the runtime it runs and the pins it sets) that `attach` merges into the runtime facts.
"""
