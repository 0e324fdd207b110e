// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';
import { MessageChannel } from 'node:worker_threads';

// react-dom/server (pulled in by @grafana/ui) needs MessageChannel, which jsdom lacks.
if (typeof global.MessageChannel === 'undefined') {
  global.MessageChannel = MessageChannel;
}
