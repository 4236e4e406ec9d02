import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, type ModulesContainer } from '@nestjs/core';

/** One route as the controllers declare it: `GET /v1/checkpoints/:id`. */
export interface Route {
  method: string;
  path: string;
}

/**
 * Every route of the app, read from the controllers' decorators, so a request whose path is known but whose
 * method is not can be answered 405 with the methods the path does take (`Allow`), rather than 404.
 *
 * Paths match as Express matches them here: case-insensitively, a trailing slash ignored, `:name` one
 * non-empty segment (the app's routes use no other pattern syntax).
 */
export class RouteTable {
  private constructor(readonly routes: readonly Route[]) {}

  static fromModules(modules: ModulesContainer): RouteTable {
    const scanner = new MetadataScanner();
    const routes: Route[] = [];
    for (const module of modules.values()) {
      for (const wrapper of module.controllers.values()) {
        const controller = wrapper.metatype as (new (...args: never[]) => object) | null | undefined;
        if (typeof controller !== 'function') continue;
        const prefixes = paths(Reflect.getMetadata(PATH_METADATA, controller));
        for (const name of scanner.getAllMethodNames(controller.prototype)) {
          const handler = (controller.prototype as Record<string, unknown>)[name] as object;
          const handlerPaths: unknown = Reflect.getMetadata(PATH_METADATA, handler);
          if (handlerPaths === undefined) continue;
          const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
          for (const prefix of prefixes) {
            for (const path of paths(handlerPaths)) routes.push({ method, path: joinPath(prefix, path) });
          }
        }
      }
    }
    return new RouteTable(routes);
  }

  /** The methods `pathname` takes (HEAD wherever GET is, as Express answers it), sorted; [] if none. */
  allowedMethods(pathname: string): string[] {
    const segments = splitPath(pathname);
    const methods = new Set<string>();
    for (const route of this.routes) {
      if (!matches(splitPath(route.path), segments)) continue;
      methods.add(route.method);
      if (route.method === 'GET') methods.add('HEAD');
    }
    return [...methods].sort();
  }
}

function paths(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return [typeof value === 'string' ? value : '/'];
}

function joinPath(prefix: string, path: string): string {
  return `/${[prefix, path].join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment, i, all) => i > 0 && !(i === all.length - 1 && segment === ''));
}

function matches(pattern: readonly string[], segments: readonly string[]): boolean {
  if (pattern.length !== segments.length) return false;
  return pattern.every((part, i) =>
    part.startsWith(':') ? segments[i] !== '' : part.toLowerCase() === segments[i]!.toLowerCase(),
  );
}
