/* image_cmd: the local image store from the command line:
 *   hull import [--name REF] FILE|DIR   docker-archive, oci-archive, OCI layout
 *   hull images [-q]                    list stored images
 *   hull rmi REF...                     untag, and free what nothing uses
 *   hull image prune                    free everything nothing uses
 *   hull image ls|rm|import             the same, docker's long spelling
 * Each returns the process exit status: 0, 2 for usage, 125 for failures. */
#ifndef HULL_CLI_IMAGE_CMD_H
#define HULL_CLI_IMAGE_CMD_H

int import_main(int argc, char **argv);
int images_main(int argc, char **argv);
int rmi_main(int argc, char **argv);
int image_main(int argc, char **argv);

#endif
