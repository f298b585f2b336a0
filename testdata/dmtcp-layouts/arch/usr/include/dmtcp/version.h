#ifndef __DMTCP_VERSION_H__
#define __DMTCP_VERSION_H__
#define DMTCP_PACKAGE_VERSION "3.0.0"
#endif
