export function likesLabel(likes: number): string {
  return `${likes} ${likes === 1 ? 'like' : 'likes'}`;
}
